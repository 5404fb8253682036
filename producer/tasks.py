"""Tasks from the producer's side: validate, route and enqueue each one, and read its typed result."""

import uuid
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any, Generic, overload

from celery import Celery
from celery.exceptions import TimeoutError as CeleryTimeoutError
from celery.result import AsyncResult
from kombu.exceptions import OperationalError
from pydantic import BaseModel, ValidationError
from redis.exceptions import ConnectionError as RedisConnectionError

from producer.router import Payload, RoutedTask, Router
from slmq.errors import (
    BrokerUnavailableError,
    DeadLetteredError,
    OutputValidationError,
    ResultTimeoutError,
    SlmqError,
    TaskFailedError,
)
from slmq.fleet import Fleet, load_fleet
from slmq.schemas import ResultT, TaskTypeSpec, result_from_wire
from slmq.settings import Settings, load_settings
from slmq.stores.broker import broker_hint, create_app


class TaskHandle(Generic[ResultT]):
    """One submitted task. ``get()`` returns its typed result or raises its typed error."""

    def __init__(self, async_result: AsyncResult, routed: RoutedTask) -> None:
        self.async_result = async_result
        self.routed = routed
        self.result_type: type[ResultT] = routed.spec.result

    @property
    def id(self) -> str:
        return str(self.async_result.id)

    @property
    def task_type(self) -> str:
        return self.routed.spec.name

    @property
    def model(self) -> str:
        return self.routed.model

    def ready(self) -> bool:
        return bool(self.async_result.ready())

    def get(self, timeout: float | None = None) -> ResultT:
        """Wait for the result; raise the worker's typed error, or ``ResultTimeoutError``."""
        try:
            value = self.async_result.get(timeout=timeout, propagate=True)
        except CeleryTimeoutError:
            raise ResultTimeoutError(
                f"No result for {self.task_type} task {self.id} within {timeout}s; check that a worker consumes "
                f"queue {self.routed.queue} (`slmq status`), or wait longer."
            ) from None
        except DeadLetteredError:
            # `slmq dlq retry` may answer it later under the same id: the next get() reads it afresh.
            self.async_result = AsyncResult(self.id, app=self.async_result.app)
            raise
        except SlmqError:
            raise
        except (OperationalError, RedisConnectionError, ConnectionError) as exc:
            raise BrokerUnavailableError(f"Lost the result backend while waiting for task {self.id}: {exc}.") from None
        except Exception as exc:
            raise TaskFailedError(
                f"The worker failed {self.task_type} task {self.id}: {type(exc).__name__}: {exc}"
            ) from None
        try:
            return result_from_wire(self.result_type, value)
        except ValidationError as exc:
            raise OutputValidationError(
                f"The result of task {self.id} does not match the {self.task_type} schema: {exc.errors()[0]['msg']}. "
                "Producer and worker run different slmq versions; upgrade the older one.",
                raw_output=repr(value),
            ) from None


class TaskClient:
    """Submit tasks to the fleet: validated and routed before enqueue, answered with typed results.

    ``FleetClient`` adds batch jobs; the job feeder and pipelines submit through this one."""

    def __init__(self, settings: Settings | None = None, *, fleet: Fleet | None = None, app: Celery | None = None):
        self.settings = settings or load_settings()
        self.fleet = fleet or load_fleet(self.settings.fleet)
        self.app = app or create_app(self.settings)
        self.router = Router(self.fleet, self.settings.max_payload_bytes)

    @overload
    def submit(
        self,
        task_type: TaskTypeSpec[Any, ResultT],
        payload: Payload,
        *,
        task_id: str | None = None,
        headers: dict[str, Any] | None = None,
    ) -> TaskHandle[ResultT]: ...

    @overload
    def submit(
        self, task_type: str, payload: Payload, *, task_id: str | None = None, headers: dict[str, Any] | None = None
    ) -> TaskHandle[BaseModel]: ...

    def submit(
        self,
        task_type: str | TaskTypeSpec[Any, Any],
        payload: Payload,
        *,
        task_id: str | None = None,
        headers: dict[str, Any] | None = None,
    ) -> TaskHandle[Any]:
        """Validate, route and enqueue one task; nothing is enqueued when the payload is refused.

        ``task_type`` is a name (``"delivery_note"``) or its spec (``slmq.schemas.DELIVERY_NOTE``), which also
        types the handle's result for a type checker."""
        task_type = task_type if isinstance(task_type, str) else task_type.name
        routed = self.router.route(task_type, payload)
        task_id = task_id or str(uuid.uuid4())
        try:
            async_result = self.app.send_task(
                routed.task_name,
                kwargs={"payload": routed.payload},
                queue=routed.queue,
                task_id=task_id,
                headers=headers,
                # Flower and worker logs show this instead of the payload: no note text leaves Redis.
                argsrepr="()",
                kwargsrepr=f"{{'payload': <{routed.size} bytes>}}",
            )
        except (OperationalError, RedisConnectionError, ConnectionError, RuntimeError) as exc:
            # RuntimeError: Celery's result backend gave up reconnecting (its retry policy is bounded).
            raise BrokerUnavailableError(
                f"Cannot reach the broker to enqueue {task_type} task {task_id}: {_root_cause(exc)}. "
                f"{broker_hint(self.settings)} If the broker stalled mid-send the task may still run; submit it "
                "again with the same task_id, which is idempotent."
            ) from None
        return TaskHandle(async_result, routed)

    @overload
    def map(
        self,
        task_type: TaskTypeSpec[Any, ResultT],
        payloads: Iterable[Payload | SlmqError],
        *,
        timeout: float | None = None,
        window: int | None = None,
        return_errors: bool = False,
    ) -> Iterator[ResultT | SlmqError]: ...

    @overload
    def map(
        self,
        task_type: str,
        payloads: Iterable[Payload | SlmqError],
        *,
        timeout: float | None = None,
        window: int | None = None,
        return_errors: bool = False,
    ) -> Iterator[BaseModel | SlmqError]: ...

    def map(
        self,
        task_type: str | TaskTypeSpec[Any, Any],
        payloads: Iterable[Payload | SlmqError],
        *,
        timeout: float | None = None,
        window: int | None = None,
        return_errors: bool = False,
    ) -> Iterator[Any]:
        """Results of ``payloads`` in input order, keeping ``window`` tasks in flight.

        With ``return_errors`` a failed or refused item yields its typed error instead of raising it.
        An ``SlmqError`` among the payloads (an item the caller refused itself) is yielded in its place.
        ``task_type`` is a name or its spec, as for ``submit``.
        """
        task_type = task_type if isinstance(task_type, str) else task_type.name
        in_flight = window or self.default_window(task_type)
        handles = (self._submit_or_error(task_type, payload, return_errors) for payload in payloads)
        yield from self.in_order(handles, in_flight, timeout=timeout, return_errors=return_errors)

    def default_window(self, task_type: str) -> int:
        """Tasks kept in flight by ``map`` and jobs: four of the serving model's batches."""
        return 4 * self.fleet.model_for(task_type).max_batch

    def in_order(
        self,
        handles: Iterable[TaskHandle[ResultT] | SlmqError],
        window: int,
        *,
        timeout: float | None = None,
        return_errors: bool = False,
    ) -> Iterator[ResultT | SlmqError]:
        """Results of lazily submitted ``handles`` in order, drawing at most ``window`` ahead of the oldest."""
        pending: deque[TaskHandle[ResultT] | SlmqError] = deque()
        for handle in handles:
            pending.append(handle)
            if len(pending) >= window:
                yield self._settle(pending.popleft(), timeout, return_errors)
        while pending:
            yield self._settle(pending.popleft(), timeout, return_errors)

    def _submit_or_error(
        self, task_type: str, payload: Payload | SlmqError, return_errors: bool
    ) -> TaskHandle[BaseModel] | SlmqError:
        if isinstance(payload, SlmqError):
            return payload
        try:
            return self.submit(task_type, payload)
        except SlmqError as exc:
            if not return_errors or isinstance(exc, BrokerUnavailableError):
                raise
            return exc

    @staticmethod
    def _settle(
        item: TaskHandle[ResultT] | SlmqError, timeout: float | None, return_errors: bool
    ) -> ResultT | SlmqError:
        if isinstance(item, SlmqError):
            return item
        try:
            return item.get(timeout=timeout)
        except SlmqError as exc:
            if not return_errors:
                raise
            return exc


def _root_cause(exc: BaseException) -> str:
    """The innermost error behind ``exc`` (Celery wraps a refused password or certificate in RuntimeError)."""
    while (exc.__cause__ or exc.__context__) is not None:
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}"
