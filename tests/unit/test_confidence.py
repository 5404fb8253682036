"""Per-field confidence: from token probabilities to fields, on the wire, in output lines and review files."""

import json
import math
from pathlib import Path
from typing import Any

import pytest

from slmq.batchfile import OutputLines, for_review
from slmq.errors import ConfigError
from slmq.schemas import DeliveryNote, DeliveryNoteConfidence, result_from_wire, result_to_wire
from slmq.stores.jobstore import line_record
from workers.model.confidence import span_confidence, value_spans
from workers.model.runner import Generation
from workers.model.tasktypes.delivery_note import SCORED_FIELDS, field_confidence

RECORD = {
    "consignee": "Acme Ltd",
    "address": {"street": "14 Harbour Rd", "city": "Leith", "region": None, "postcode": "EH6 6QQ", "country": None},
    "items": [
        {"quantity": 3, "unit": "boxes", "description": "bolts"},
        {"quantity": 2, "unit": "drums", "description": "oil"},
    ],
    "delivery_date": "Friday",
    "contact_name": None,
    "contact_phone": None,
    "reference": "PO 7731-22",
    "instructions": None,
}


def compact(record: dict[str, Any]) -> bytes:
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False).encode()


def test_value_spans_gives_the_byte_range_of_every_value_by_path() -> None:
    document = compact(RECORD)
    spans = value_spans(b"Sure: " + document)
    offset = len(b"Sure: ")
    for path, expected in [
        (("consignee",), b'"Acme Ltd"'),
        (("address", "street"), b'"14 Harbour Rd"'),
        (("address", "region"), b"null"),
        (("items", 1), b'{"quantity":2,"unit":"drums","description":"oil"}'),
        (("items", 0, "quantity"), b"3"),
        ((), document),
    ]:
        start, end = spans[path]
        assert (b"Sure: " + document)[start:end] == expected, path
        assert start >= offset
    assert value_spans(b'{"a":"x\\"y","b":[]}')[("a",)] == (5, 11)  # an escaped quote does not end a string


@pytest.mark.parametrize("text", [b"no json here", b'{"a":', b'{"a" 1}', b'{"a":"open'])
def test_value_spans_refuses_what_is_not_json(text: bytes) -> None:
    with pytest.raises(ValueError):
        value_spans(text)


def test_a_span_costs_the_tokens_that_touch_it_and_nothing_else() -> None:
    # Given tokens '{"a":"', 'xy', '","b":', 'null', '}' with their log-probabilities
    pieces = (b'{"a":"', b"xy", b'","b":', b"null", b"}")
    logprobs = (math.log(0.9), math.log(0.5), math.log(0.8), math.log(0.25), 0.0)
    spans = value_spans(b"".join(pieces))
    # Then "xy" costs the token that opened it, its own and the one that closed it; null only its own
    assert span_confidence(pieces, logprobs, *spans[("a",)]) == pytest.approx(0.9 * 0.5 * 0.8)
    assert span_confidence(pieces, logprobs, *spans[("b",)]) == pytest.approx(0.25)
    assert span_confidence(pieces, logprobs, *spans[("a",)], combine=min) == pytest.approx(0.5)


def test_field_confidence_puts_each_tokens_doubt_on_its_own_field() -> None:
    # Given a record written one byte per token, all certain except the city's bytes (each 0.9) and the second item's
    document = compact(RECORD)
    spans = value_spans(document)
    city, item = spans[("address", "city")], spans[("items", 1)]
    pieces = tuple(document[i : i + 1] for i in range(len(document)))
    logprobs = tuple(
        math.log(0.9) if city[0] < i < city[1] - 1 else math.log(0.5) if i == item[0] + 5 else 0.0
        for i in range(len(document))
    )
    generation = Generation(document.decode(), len(pieces), False, pieces, logprobs)
    record = DeliveryNote.model_validate(RECORD)
    # When the confidence is computed
    confidence = field_confidence(record, generation)
    # Then the city has 0.9 per byte of "Leith", the second item 0.5, and everything else (nulls too) 1.0
    assert confidence is not None
    values = confidence.model_dump()
    assert values["address.city"] == pytest.approx(0.9**5, abs=1e-4)
    assert values["items"] == [1.0, 0.5]
    assert set(values) == {*SCORED_FIELDS, "items"}
    assert all(values[name] == 1.0 for name in SCORED_FIELDS if name != "address.city")
    assert confidence.lowest() == 0.5
    # And without token probabilities there is no confidence rather than a made-up one
    assert field_confidence(record, Generation(document.decode(), len(pieces), False)) is None


def confident(lowest: float, items: int = 1) -> DeliveryNoteConfidence:
    return DeliveryNoteConfidence.model_validate({**dict.fromkeys(SCORED_FIELDS, 1.0), "items": [lowest] * items})


def test_confidence_travels_beside_the_record_not_in_it() -> None:
    # Given a record with its confidence
    record = DeliveryNote.model_validate(RECORD).with_confidence(confident(0.4, items=2))
    # When it is stored the way a worker stores it and read back the way a producer does
    wire = result_to_wire(record)
    back = result_from_wire(DeliveryNote, wire)
    # Then the record is the contract's (no confidence field in its dump or its schema) and the confidence came along
    assert back.model_dump() == RECORD
    assert isinstance(back, DeliveryNote) and back.confidence == record.confidence
    assert "confidence" not in DeliveryNote.model_json_schema()["properties"]
    # And a job line carries it as its own key, the result as the contract's record
    line, error = line_record("job", 0, "a", "delivery_note", "m", wire, {})
    assert error is None and line["result"] == RECORD
    assert line["confidence"]["items"] == [0.4, 0.4] and line["confidence"]["address.street"] == 1.0
    # And a record that came without one reads as it did before
    assert result_from_wire(DeliveryNote, RECORD).confidence is None  # type: ignore[attr-defined]


def test_review_files_take_the_doubtful_results_and_only_those(tmp_path: Path) -> None:
    # Given output lines: sure, doubtful, without confidence, and an error
    sure = {"id": "1", "result": RECORD, "confidence": confident(0.95).model_dump(), "error": None}
    doubtful = {"id": "2", "result": RECORD, "confidence": confident(0.3).model_dump(), "error": None}
    unknown = {"id": "3", "result": RECORD, "error": None}
    failed = {"id": "4", "result": None, "error": {"type": "OutputValidationError", "message": "no"}}
    output = tmp_path / "out.jsonl"
    # When they are written with --review-below 0.5
    with OutputLines(output, 0.5) as out:
        for line in (sure, doubtful, unknown, failed):
            out.write(line)
    # Then the doubtful and the unknown ones are in out.review.jsonl, the rest in the output, each once
    assert [json.loads(x)["id"] for x in output.read_text().splitlines()] == ["1", "4"]
    review = tmp_path / "out.review.jsonl"
    assert [json.loads(x)["id"] for x in review.read_text().splitlines()] == ["2", "3"]
    assert out.summary() == f", 2 sent to review ({review})"
    assert not for_review(sure, 0.95) and for_review(sure, 0.951)
    # And without a threshold everything goes to the output
    with OutputLines(output) as out:
        for line in (sure, doubtful):
            out.write(line)
    assert len(output.read_text().splitlines()) == 2 and out.summary() == ""
    # And to stdout, a review file must be named
    with pytest.raises(ConfigError, match="--review FILE"):
        OutputLines(None, 0.5)
