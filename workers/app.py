"""The worker's Celery app: one task per task type, answered in batches by the model this worker holds."""

from collections.abc import Callable
from typing import Any

from celery import Celery, Task

from celeryconfig import worker_celery_config
from slmq.constants import PING_TASK, task_name
from slmq.errors import SlmqError
from slmq.fleet import Fleet
from slmq.schemas import result_to_wire
from slmq.settings import Settings
from slmq.stores.broker import create_app
from slmq.stores.connections import app_client
from workers import transport
from workers.batcher import Batcher, batching_step
from workers.delivery import DeliveryGuard, DeliveryLedger
from workers.meter import WorkerMeter
from workers.model.runner import ModelRunner
from workers.model.tasktypes import TASK_TYPES
from workers.modelthread import ModelThread
from workers.recorder import JobRecorder
from workers.watchdog import Watchdog


def build_worker_app(
    settings: Settings,
    fleet: Fleet,
    runner: ModelRunner,
    recorder: JobRecorder | None = None,
    meter: WorkerMeter | None = None,
    waiting: Callable[[], int] | None = None,
    model_thread: ModelThread | None = None,
) -> tuple[Celery, Batcher]:
    """A Celery app whose tasks are batched onto ``runner``; every task type is registered, served or not.

    With a ``recorder``, each job task's outcome is written into its job before its result is stored and acked;
    with a ``meter``, each batch and each ``generate()`` is counted; ``waiting`` reads the queue's depth;
    ``model_thread`` (the one that loaded ``runner``) runs the batches.
    """
    transport.install()  # before the app connects: garbage on the queue must not stop the worker
    app = create_app(settings)
    app.conf.update(worker_celery_config())
    guard = delivery_guard(app, settings, runner)
    runner.hooks.append(guard.watchdog)
    if meter is not None:
        runner.hooks.append(meter)
    batcher = Batcher(
        runner, fleet, settings.max_payload_bytes, guard, waiting=waiting, meter=meter, model_thread=model_thread
    )
    app.steps["consumer"].add(batching_step(batcher))
    for task_type in TASK_TYPES:
        _register(app, batcher, task_name(task_type), recorder)

    @app.task(name=PING_TASK)  # type: ignore[untyped-decorator]
    def ping() -> str:
        """Answered without the model: a health check, and the measure of slmq's own queue overhead."""
        return str(runner.spec.name)

    return app, batcher


def delivery_guard(app: Celery, settings: Settings, runner: ModelRunner) -> DeliveryGuard:
    """Attempt counting, stored-result reuse, dead letters and time limits for the worker of ``runner``."""
    client = app_client(app)
    ledger = DeliveryLedger(client, app.backend, runner.spec.queue, settings.max_attempts, settings.result_expires_s)
    return DeliveryGuard(ledger, Watchdog(settings.task_time_limit_s, settings.hard_time_limit_s))


def _register(app: Celery, batcher: Batcher, name: str, recorder: JobRecorder | None) -> None:
    # Expected, typed failures are listed in `throws`: Celery logs them in one line, without a traceback.
    # resultrepr_maxsize=0: the task-succeeded event (Flower, logs) carries no result; a record quotes the note.
    @app.task(name=name, bind=True, throws=(SlmqError,), resultrepr_maxsize=0)  # type: ignore[untyped-decorator]
    def run(self: Task, *args: Any, **kwargs: Any) -> dict[str, Any]:
        # Any arguments: a malformed message reaches the batcher, which answers it with InvalidPayloadError.
        task_id = str(self.request.id)
        waited = batcher.waited(task_id)
        outcome = batcher.take(task_id)
        if outcome is None:  # executed outside the batcher, e.g. eagerly
            outcome = batcher.answer({task_id: (name, kwargs)})[task_id]
        answer = outcome if isinstance(outcome, SlmqError) else result_to_wire(outcome.result)
        if recorder is not None:  # on the task's own path: a failure here keeps the message unacked
            recorder.record(self.request, name, answer, waited)
        if isinstance(answer, SlmqError):
            raise answer
        return answer
