"""The delivery_note output schema is the contract's, field for field."""

import json

import pytest
from pydantic import ValidationError

from slmq.schemas import DeliveryNote
from tests.conftest import SHARED

CONTRACT = SHARED / "contracts" / "delivery_note.schema.json"
DEV_NOTES = SHARED / "data" / "delivery_notes_dev.jsonl"


def test_every_labelled_dev_record_validates() -> None:
    records = [json.loads(line)["gold"] for line in DEV_NOTES.read_text().splitlines() if line.strip()]
    assert len(records) == 12
    for record in records:
        assert DeliveryNote.model_validate(record).model_dump(mode="json") == record


def test_the_schema_has_the_contracts_keys_all_required() -> None:
    contract = json.loads(CONTRACT.read_text())
    ours = DeliveryNote.model_json_schema()
    assert set(ours["properties"]) == set(contract["properties"]) == set(ours["required"])
    address = ours["$defs"]["Address"]
    assert set(address["required"]) == set(contract["properties"]["address"]["required"])
    item = ours["$defs"]["Item"]
    assert set(item["required"]) == set(contract["properties"]["items"]["items"]["required"])


def test_missing_and_extra_keys_are_rejected() -> None:
    record = json.loads(DEV_NOTES.read_text().splitlines()[0])["gold"]
    with pytest.raises(ValidationError):
        DeliveryNote.model_validate({k: v for k, v in record.items() if k != "reference"})
    with pytest.raises(ValidationError):
        DeliveryNote.model_validate({**record, "sender": "someone"})
