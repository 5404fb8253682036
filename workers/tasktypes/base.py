"""What every task type does: turn requests into prompts, run them as one batch, parse each output."""

from abc import ABC, abstractmethod
from typing import ClassVar

from pydantic import BaseModel, ValidationError

from slmq.errors import OutputValidationError, SlmqError
from slmq.schemas import TASK_TYPE_SPECS, TaskTypeSpec
from workers.runner import Generation, Messages, ModelRunner

Outcome = BaseModel | SlmqError


class TaskType(ABC):
    """A task type on the worker side; one instance serves every message of that type."""

    name: ClassVar[str]

    @property
    def spec(self) -> TaskTypeSpec:
        return TASK_TYPE_SPECS[self.name]

    @abstractmethod
    def run(self, runner: ModelRunner, requests: list[BaseModel], max_new_tokens: int) -> list[Outcome]:
        """One outcome per request, in order: a result, or the typed error of that request alone."""


class GenerativeTaskType(TaskType):
    """A task type answered by free generation, then parsed into its output schema."""

    @abstractmethod
    def messages(self, request: BaseModel) -> Messages:
        """The chat messages that ask the model for this request's output."""

    @abstractmethod
    def parse(self, text: str, request: BaseModel) -> BaseModel:
        """The typed result in ``text``; raises ValueError or ValidationError when there is none."""

    def run(self, runner: ModelRunner, requests: list[BaseModel], max_new_tokens: int) -> list[Outcome]:
        generations = runner.generate([self.messages(request) for request in requests], max_new_tokens)
        return [self._outcome(generation, request) for generation, request in zip(generations, requests, strict=True)]

    def _outcome(self, generation: Generation | SlmqError, request: BaseModel) -> Outcome:
        if isinstance(generation, SlmqError):
            return generation
        try:
            return self.parse(generation.text, request)
        except (ValueError, ValidationError) as exc:
            cause = _first_line(exc)
            if generation.truncated:
                cause += f" (generation stopped at max_new_tokens={generation.new_tokens})"
            return OutputValidationError(
                f"The model's output is not a valid {self.name} result: {cause}.", raw_output=generation.text
            )


def _first_line(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        error = exc.errors()[0]
        return f"{'.'.join(map(str, error['loc'])) or 'output'}: {error['msg']}"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
