"""delivery_note: one free-text delivery note in, the record of contracts/delivery_note.md out."""

import json
import re
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from slmq.errors import InvalidPayloadError, OutputValidationError
from slmq.schemas import DELIVERY_NOTE, DeliveryNote, DeliveryNoteConfidence, DeliveryNoteRequest
from workers.model.confidence import span_confidence, value_spans
from workers.model.grammar import generation_schema
from workers.model.runner import Generation, Messages, ModelRunner
from workers.model.tagger import Tagged
from workers.model.tasktypes.base import (
    DEFAULT_REASKS,
    Answered,
    GenerativeTaskType,
    Join,
    OnAnswer,
    Outcome,
    error_lines,
)

# The specialist is fine-tuned on exactly this prompt (slmq/training/trainer.py): an instruction and the note,
# no worked example, so prefill stays short. Changing it changes the prompt version job lines record
# (workers/recorder.py) and calls for a new adapter.
INSTRUCTION = (
    "Extract the delivery note as one JSON record: consignee, address, items, delivery_date, contact_name, "
    "contact_phone, reference, instructions. Copy values as written; null when the note does not say."
)
_OBJECT = re.compile(r"\{.*\}", re.DOTALL)
# The scored field paths a confidence is given for ("consignee", "address.street", ...), items apart.
SCORED_FIELDS = tuple(f.alias or name for name, f in DeliveryNoteConfidence.model_fields.items() if name != "items")


class DeliveryNoteTask(GenerativeTaskType[DeliveryNoteRequest, DeliveryNote]):
    spec = DELIVERY_NOTE

    def messages(self, request: DeliveryNoteRequest) -> Messages:
        return [{"role": "system", "content": INSTRUCTION}, {"role": "user", "content": request.text}]

    def output_schema(self) -> dict[str, Any]:
        return generation_schema(DeliveryNote)

    def copy_source(self, request: DeliveryNoteRequest) -> str:
        # The contract: every value is a verbatim span of the note (whitespace collapsed); only quantities are not.
        return request.text

    def parse(self, text: str, request: DeliveryNoteRequest) -> DeliveryNote:
        return DeliveryNote.model_validate(json.loads(extract_json_object(text)))

    def annotate(self, result: DeliveryNote, generation: Generation) -> DeliveryNote:
        return result.with_confidence(field_confidence(result, generation))

    def run(
        self,
        runner: ModelRunner,
        requests: list[DeliveryNoteRequest],
        max_new_tokens: int,
        *,
        constrained: bool = True,
        reasks: int = DEFAULT_REASKS,
        copy_spans: bool = True,
        on_answer: OnAnswer | None = None,
        join: Join | None = None,
    ) -> list[Outcome]:
        """Generated, or, where the model serves a span tagger, tagged (a forward pass per note on a CPU, per batch
        on a GPU; no request joins a batch being tagged)."""
        tagger = runner.tagger
        if tagger is None:
            return super().run(
                runner,
                requests,
                max_new_tokens,
                constrained=constrained,
                reasks=reasks,
                copy_spans=copy_spans,
                on_answer=on_answer,
                join=join,
            )
        outcomes: list[Outcome | None] = [None] * len(requests)
        encoded = [tagger.encode(runner.tokenizer, request.text) for request in requests]
        fits = []
        for index, note in enumerate(encoded):
            length = len(note.input_ids)
            if length > runner.spec.context_limit:
                outcomes[index] = InvalidPayloadError(
                    f"The note, as the span tagger reads it, is {length} tokens, over model "
                    f"{runner.spec.name!r}'s context_limit of {runner.spec.context_limit}; send a shorter text."
                )
            else:
                fits.append(index)
        if fits:
            pad_id = runner.tokenizer.pad_token_id or 0
            tagged = tagger.tag([requests[i].text for i in fits], [encoded[i] for i in fits], pad_id)
            for index, answer in zip(fits, tagged, strict=True):
                outcomes[index] = tagged_outcome(answer)
        return [outcome for outcome in outcomes if outcome is not None]


def tagged_outcome(answer: Tagged) -> Outcome:
    """The span tagger's record as a result with its confidence, or the typed error of a record the schema refuses."""
    record, confidence = answer
    try:
        result = DeliveryNote.model_validate(record)
    except ValidationError as exc:
        errors = error_lines(exc)
        return OutputValidationError(
            f"The span tagger's record is not a valid delivery_note result: {errors[0]}.",
            raw_output=json.dumps(record, ensure_ascii=False),
            errors=errors,
        )
    rounded = {k: [round(v, 4) for v in c] if isinstance(c, list) else round(c, 4) for k, c in confidence.items()}
    return Answered(result.with_confidence(DeliveryNoteConfidence.model_validate(rounded)))


def field_confidence(
    record: DeliveryNote, generation: Generation, combine: Callable[[list[float]], float] = sum
) -> DeliveryNoteConfidence | None:
    """How sure the model was of each field and item it wrote; None without its tokens' probabilities.

    ``combine`` makes one log-probability of a value's tokens' (their sum: the value's probability).
    """
    if not generation.logprobs or len(generation.logprobs) != len(generation.pieces):
        return None
    try:
        spans = value_spans(b"".join(generation.pieces))
    except ValueError:
        return None  # the text parsed, its bytes not: a tokenizer whose pieces are not its text's bytes

    def of(path: tuple[str | int, ...]) -> float:
        start, end = spans.get(path, (0, 0))
        return round(span_confidence(generation.pieces, generation.logprobs, start, end, combine), 4) if end else 1.0

    fields: dict[str, object] = {name: of(tuple(name.split("."))) for name in SCORED_FIELDS}
    fields["items"] = [of(("items", index)) for index in range(len(record.items))]
    return DeliveryNoteConfidence.model_validate(fields)


def extract_json_object(text: str) -> str:
    """The outermost ``{...}`` in a model's answer, ignoring code fences and chatter around it."""
    match = _OBJECT.search(text)
    if match is None:
        raise ValueError("no JSON object in the output")
    return match.group(0)
