"""Routing: check a payload against its task type before anything is enqueued, and pick its queue."""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from slmq.constants import task_name
from slmq.errors import InvalidPayloadError, PayloadTooLargeError
from slmq.fleet import Fleet
from slmq.schemas import TASK_TYPE_SPECS, TaskTypeSpec

Payload = str | bytes | Mapping[str, Any] | BaseModel


@dataclass(frozen=True)
class RoutedTask:
    """A validated payload and where it goes."""

    spec: TaskTypeSpec[Any, Any]
    task_name: str
    model: str
    queue: str
    payload: dict[str, Any]
    size: int


class Router:
    """Refuses unknown task types, oversize payloads, invalid text and schema mismatches, then routes."""

    def __init__(self, fleet: Fleet, max_payload_bytes: int) -> None:
        self.fleet = fleet
        self.max_payload_bytes = max_payload_bytes

    def route(self, task_type: str, payload: Payload) -> RoutedTask:
        model = self.fleet.model_for(task_type)
        spec = TASK_TYPE_SPECS[task_type]
        fields = _as_fields(payload)
        _check_utf8(fields)
        size = len(json.dumps(fields, ensure_ascii=False).encode("utf-8"))
        if size > self.max_payload_bytes:
            raise PayloadTooLargeError(
                f"The {task_type} payload is {size:,} bytes; the limit is {self.max_payload_bytes:,} "
                "(SLMQ_MAX_PAYLOAD_BYTES). Split the text into smaller pieces or raise the limit."
            )
        try:
            request = spec.request.model_validate(fields)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'payload'}: {e['msg']}" for e in exc.errors())
            raise InvalidPayloadError(f"Invalid {task_type} payload: {problems}.") from None
        return RoutedTask(spec, task_name(task_type), model.name, model.queue, request.model_dump(mode="json"), size)


def _as_fields(payload: Payload) -> dict[str, Any]:
    if isinstance(payload, BaseModel):
        return payload.model_dump(mode="json")
    if isinstance(payload, bytes):
        try:
            return {"text": payload.decode("utf-8")}
        except UnicodeDecodeError as exc:
            raise InvalidPayloadError(
                f"The payload is not valid UTF-8: byte 0x{payload[exc.start]:02x} at position {exc.start}; "
                "decode the source with its real encoding before submitting."
            ) from None
    if isinstance(payload, str):
        return {"text": payload}
    if isinstance(payload, Mapping):
        return dict(payload)
    raise InvalidPayloadError(
        f"A payload must be text, UTF-8 bytes or a mapping of fields, not {type(payload).__name__}."
    )


def _check_utf8(fields: Mapping[str, Any]) -> None:
    for key, value in fields.items():
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise InvalidPayloadError(
                    f"Field {key!r} is not valid UTF-8 text: character U+{ord(value[exc.start]):04X} at position "
                    f"{exc.start} is a lone surrogate; decode the source with errors='replace' or fix its encoding."
                ) from None
