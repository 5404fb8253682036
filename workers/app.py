"""The worker's Celery app: one task per task type, answered by the model this worker holds."""

import logging
from typing import Any

from celery import Celery
from pydantic import ValidationError

from slmq.app import create_app
from slmq.constants import task_name
from slmq.errors import InvalidPayloadError, SlmqError, TaskNotServedError
from slmq.fleet import Fleet
from slmq.settings import Settings
from workers.runner import ModelRunner
from workers.tasktypes import TASK_TYPES, TaskType

log = logging.getLogger(__name__)


def build_worker_app(settings: Settings, fleet: Fleet, runner: ModelRunner) -> Celery:
    """A Celery app whose tasks run on ``runner``; every task type is registered so none is 'unregistered'."""
    app = create_app(settings)
    for task_type in TASK_TYPES.values():
        _register(app, fleet, runner, task_type)
    return app


def _register(app: Celery, fleet: Fleet, runner: ModelRunner, task_type: TaskType) -> None:
    served = task_type.name in fleet.task_types_of(runner.spec.name)
    max_new_tokens = fleet.max_new_tokens(task_type.name) if served else 0

    # Expected, typed failures are listed in `throws`: Celery logs them in one line, without a traceback.
    @app.task(name=task_name(task_type.name), throws=(SlmqError,))  # type: ignore[untyped-decorator]
    def run(payload: dict[str, Any]) -> dict[str, Any]:
        if not served:
            raise TaskNotServedError(
                f"Task type {task_type.name!r} reached model {runner.spec.name!r}, which does not serve it; "
                "send it through FleetClient so it is routed by fleet.toml."
            )
        try:
            request = task_type.spec.request.model_validate(payload)
        except ValidationError as exc:
            raise InvalidPayloadError(f"Invalid {task_type.name} payload: {exc.errors()[0]['msg']}.") from None
        [outcome] = task_type.run(runner, [request], max_new_tokens)
        if isinstance(outcome, SlmqError):
            raise outcome
        return outcome.model_dump(mode="json")
