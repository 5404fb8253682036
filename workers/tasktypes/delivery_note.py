"""delivery_note: one free-text delivery note in, the record of contracts/delivery_note.md out."""

import json
import re
from typing import Any

from pydantic import BaseModel

from slmq.schemas import DeliveryNote, DeliveryNoteRequest
from workers.grammar import generation_schema
from workers.runner import Messages
from workers.tasktypes.base import GenerativeTaskType

# The specialist is fine-tuned on exactly this prompt (workers/finetune.py): an instruction and the note,
# no worked example, so prefill stays short. Changing it changes the prompt version job lines record
# (workers/recorder.py) and calls for a new adapter.
INSTRUCTION = (
    "Extract the delivery note as one JSON record: consignee, address, items, delivery_date, contact_name, "
    "contact_phone, reference, instructions. Copy values as written; null when the note does not say."
)
_OBJECT = re.compile(r"\{.*\}", re.DOTALL)


class DeliveryNoteTask(GenerativeTaskType):
    name = "delivery_note"

    def messages(self, request: BaseModel) -> Messages:
        assert isinstance(request, DeliveryNoteRequest)
        return [{"role": "system", "content": INSTRUCTION}, {"role": "user", "content": request.text}]

    def output_schema(self) -> dict[str, Any]:
        return generation_schema(DeliveryNote)

    def copy_source(self, request: BaseModel) -> str:
        # The contract: every value is a verbatim span of the note (whitespace collapsed); only quantities are not.
        assert isinstance(request, DeliveryNoteRequest)
        return request.text

    def parse(self, text: str, request: BaseModel) -> BaseModel:
        return DeliveryNote.model_validate(json.loads(extract_json_object(text)))


def extract_json_object(text: str) -> str:
    """The outermost ``{...}`` in a model's answer, ignoring code fences and chatter around it."""
    match = _OBJECT.search(text)
    if match is None:
        raise ValueError("no JSON object in the output")
    return match.group(0)
