"""Every error a caller of slmq can see. One root class, one message argument each.

Each class can be rebuilt from its message alone, so it survives Celery's JSON result backend
(which stores ``exc_type``, ``exc_module`` and ``exc.args`` and calls ``cls(*args)`` on the way back).
"""

__all__ = [
    "BrokerUnavailableError",
    "ConfigError",
    "DeadLetterNotFoundError",
    "DeadLetteredError",
    "FleetError",
    "GenerationTimeoutError",
    "InferenceError",
    "InputFormatError",
    "InvalidPayloadError",
    "JobNotFoundError",
    "JobStateError",
    "ModelLoadError",
    "ModelSourceError",
    "OutputValidationError",
    "PayloadTooLargeError",
    "ResultTimeoutError",
    "SlmqError",
    "TaskFailedError",
    "TaskNotServedError",
    "UnknownTaskTypeError",
    "WorkerStartError",
]


class SlmqError(Exception):
    """Root of every error slmq raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""

    def __str__(self) -> str:
        return self.message


class ConfigError(SlmqError):
    """Raised when a setting (an ``SLMQ_*`` variable or a command-line option) is invalid."""


class FleetError(ConfigError):
    """Raised when the fleet file is missing or invalid; the message names the file and the key."""


class UnknownTaskTypeError(SlmqError):
    """Raised when a task type is not one slmq knows."""


class TaskNotServedError(SlmqError):
    """Raised when a known task type has no ``[tasks.<type>]`` entry in the fleet file."""


class InvalidPayloadError(SlmqError):
    """Raised when a payload does not match its task type's input schema or is not valid UTF-8."""


class PayloadTooLargeError(InvalidPayloadError):
    """Raised when an encoded payload is larger than ``SLMQ_MAX_PAYLOAD_BYTES``."""


class BrokerUnavailableError(SlmqError):
    """Raised when the broker or the result backend cannot be reached."""


class ResultTimeoutError(SlmqError):
    """Raised when a result does not arrive within the caller's timeout."""


class TaskFailedError(SlmqError):
    """Raised when a worker failed a task with an error that is not one of slmq's own."""


class WorkerStartError(SlmqError):
    """Raised when a worker process could not be started or did not become ready."""


class ModelSourceError(SlmqError):
    """Raised when a model's weights cannot be fetched, converted or trusted."""


class ModelLoadError(SlmqError):
    """Raised when a model cannot be loaded onto its device."""


class InferenceError(SlmqError):
    """Raised when the model failed while running a batch; every message of that batch gets it."""


class OutputValidationError(SlmqError):
    """Raised when a model's output does not match its task type's output schema.

    ``raw_output`` keeps what the model generated and ``errors`` what was wrong with it (one line each),
    for the caller and the dead-letter record.
    """

    def __init__(self, message: str, raw_output: str = "", errors: list[str] | tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.args = (message, raw_output, list(errors))
        self.raw_output = raw_output
        self.errors = list(errors)

    def __repr__(self) -> str:
        # Celery's events, Flower and logs show repr(exc): the raw output can quote the note, so it stays out.
        return f"{type(self).__name__}({self.message!r})"


class GenerationTimeoutError(OutputValidationError):
    """Raised when generation stopped at the task time limit before its output became a valid result."""


class DeadLetteredError(SlmqError):
    """Raised when a message was moved to its queue's dead-letter list; ``slmq dlq retry`` can run it again."""


class JobNotFoundError(SlmqError):
    """Raised when no job has the given id in this broker (never submitted, or expired with its results)."""


class JobStateError(SlmqError):
    """Raised when a job cannot do what was asked in its state: results of an unfinished job, a cancelled job."""


class InputFormatError(SlmqError):
    """Raised when a job's input cannot be read: missing, empty, changed since submission, or of no known format."""


class DeadLetterNotFoundError(SlmqError):
    """Raised when no dead-letter list holds the given task id."""
