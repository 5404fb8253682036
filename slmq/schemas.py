"""Input and output schemas of every task type, shared by producers and workers.

Every request carries its main input in ``text`` so that the CLI and batch files treat all task
types alike; extra fields are task-specific. The ``delivery_note`` output follows
``shared/contracts/delivery_note.md`` (schema version 1).
"""

from dataclasses import dataclass
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, JsonValue, PrivateAttr

JsonObject = dict[str, JsonValue]  # a JSON object as the wire, files and output lines carry it
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


Probability = Annotated[float, Field(ge=0.0, le=1.0)]


class DeliveryNoteConfidence(_Schema):
    """How sure the model is of each field of a record, in [0, 1], keyed by the contract's scored field paths.

    A null field's number is how sure it is that the note does not give it; ``items`` has one number per item
    of the record, in order. It travels beside the record, never in it: the record's schema is the contract's.
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True, serialize_by_alias=True)

    consignee: Probability
    address_street: Probability = Field(alias="address.street")
    address_city: Probability = Field(alias="address.city")
    address_region: Probability = Field(alias="address.region")
    address_postcode: Probability = Field(alias="address.postcode")
    address_country: Probability = Field(alias="address.country")
    delivery_date: Probability
    contact_name: Probability
    contact_phone: Probability
    reference: Probability
    instructions: Probability
    items: list[Probability]

    def lowest(self) -> float:
        """The least sure field or item (1.0 for a record with nothing in doubt)."""
        values: list[float] = [value for name, value in self if name != "items"]
        return min([*values, *self.items])


class DeliveryNote(_Schema):
    consignee: str | None
    address: Address
    items: list[Item]
    delivery_date: str | None
    contact_name: str | None
    contact_phone: str | None
    reference: str | None
    instructions: str | None
    _confidence: DeliveryNoteConfidence | None = PrivateAttr(default=None)

    @property
    def confidence(self) -> DeliveryNoteConfidence | None:
        """The model's confidence in each field, where the worker computed it (constrained decoding)."""
        return self._confidence

    def with_confidence(self, confidence: DeliveryNoteConfidence | None) -> "DeliveryNote":
        self._confidence = confidence
        return self


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


RequestT = TypeVar("RequestT", bound=BaseModel)
ResultT = TypeVar("ResultT", bound=BaseModel)


@dataclass(frozen=True)
class TaskTypeSpec(Generic[RequestT, ResultT]):
    """A task type's name and its schemas; ``schema_version`` changes when the output shape does.

    Passed to ``FleetClient.submit`` instead of the name, it types the result: ``submit(DELIVERY_NOTE, ...).get()``
    is a ``DeliveryNote``."""

    name: str
    request: type[RequestT]
    result: type[ResultT]
    schema_version: int = 1


DELIVERY_NOTE = TaskTypeSpec("delivery_note", DeliveryNoteRequest, DeliveryNote)
SENTIMENT = TaskTypeSpec("sentiment", SentimentRequest, SentimentResult)
SUMMARIZE = TaskTypeSpec("summarize", SummarizeRequest, SummaryResult)
REFACTOR_PYTHON = TaskTypeSpec("refactor_python", RefactorRequest, RefactorResult)
GENERAL = TaskTypeSpec("general", GeneralRequest, GeneralResult)
TASK_TYPE_SPECS: dict[str, TaskTypeSpec[Any, Any]] = {
    spec.name: spec for spec in (DELIVERY_NOTE, SENTIMENT, SUMMARIZE, REFACTOR_PYTHON, GENERAL)
}


# A result on the wire (Celery's result backend) is its fields, plus its confidence under this key where it has one.
CONFIDENCE_KEY = "_confidence"


def result_to_wire(result: BaseModel) -> JsonObject:
    """A task's result as the worker stores it: its fields, and beside them its confidence, if any."""
    data = result.model_dump(mode="json")
    confidence = confidence_of(result)
    return {**data, CONFIDENCE_KEY: confidence} if confidence is not None else data


def result_from_wire(model: type[ResultT], value: JsonValue) -> ResultT:
    """The typed result of ``model`` stored as ``value``; raises ValidationError when it does not match."""
    fields = dict(value) if isinstance(value, dict) else value
    confidence = fields.pop(CONFIDENCE_KEY, None) if isinstance(fields, dict) else None
    result = model.model_validate(fields)
    if isinstance(result, DeliveryNote) and confidence is not None:
        result.with_confidence(DeliveryNoteConfidence.model_validate(confidence))
    return result


def confidence_of(result: BaseModel) -> JsonObject | None:
    """A result's confidence as output lines show it (``None`` where it has none)."""
    confidence = result.confidence if isinstance(result, DeliveryNote) else None
    return confidence.model_dump(mode="json") if confidence is not None else None
