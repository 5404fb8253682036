"""Input and output schemas of every task type, shared by producers and workers.

Every request carries its main input in ``text`` so that the CLI and batch files treat all task
types alike; extra fields are task-specific. The ``delivery_note`` output follows
``shared/contracts/delivery_note.md`` (schema version 1).
"""

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_NOTE_CHARS = 4_000
MAX_TEXT_CHARS = 16_000


class _Schema(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DeliveryNoteRequest(_Schema):
    text: str = Field(min_length=1, max_length=MAX_NOTE_CHARS, description="One free-text delivery note.")


class Address(_Schema):
    street: str | None
    city: str | None
    region: str | None
    postcode: str | None
    country: str | None


class Item(_Schema):
    quantity: float | int
    unit: str | None
    description: str


class DeliveryNote(_Schema):
    consignee: str | None
    address: Address
    items: list[Item]
    delivery_date: str | None
    contact_name: str | None
    contact_phone: str | None
    reference: str | None
    instructions: str | None


class SentimentRequest(_Schema):
    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)


class SentimentResult(_Schema):
    label: Literal["positive", "negative", "neutral"]
    score: float = Field(ge=0.0, le=1.0, description="The model's probability of the label among the three.")


class SummarizeRequest(_Schema):
    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)
    max_words: int = Field(default=60, ge=5, le=400)


class SummaryResult(_Schema):
    summary: str = Field(min_length=1)


class RefactorRequest(_Schema):
    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS, description="Python source to review.")
    instructions: str | None = Field(default=None, max_length=2_000)


class RefactorResult(_Schema):
    suggestions: list[str] = Field(min_length=1)
    revised_code: str | None


class GeneralRequest(_Schema):
    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS, description="The question or instruction.")


class GeneralResult(_Schema):
    answer: str = Field(min_length=1)


@dataclass(frozen=True)
class TaskTypeSpec:
    """A task type's name and its schemas; ``schema_version`` changes when the output shape does."""

    name: str
    request: type[BaseModel]
    result: type[BaseModel]
    schema_version: int = 1


TASK_TYPE_SPECS: dict[str, TaskTypeSpec] = {
    spec.name: spec
    for spec in (
        TaskTypeSpec("delivery_note", DeliveryNoteRequest, DeliveryNote),
        TaskTypeSpec("sentiment", SentimentRequest, SentimentResult),
        TaskTypeSpec("summarize", SummarizeRequest, SummaryResult),
        TaskTypeSpec("refactor_python", RefactorRequest, RefactorResult),
        TaskTypeSpec("general", GeneralRequest, GeneralResult),
    )
}
