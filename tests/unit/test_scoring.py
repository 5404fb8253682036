"""Scoring by the contract's rules, one hand-made case per rule, and gold scored against itself."""

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from slmq.scoring import Counts, normalise, phone_digits, score, score_items, score_record, token_f1, units_match
from tests.conftest import SHARED

REPO = Path(__file__).resolve().parents[2]
HELDOUT = REPO / "data" / "delivery_note" / "heldout-v1.jsonl"
DEV_NOTES = SHARED / "data" / "delivery_notes_dev.jsonl"


def record(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "consignee": None,
        "address": {"street": None, "city": None, "region": None, "postcode": None, "country": None},
        "items": [],
        "delivery_date": None,
        "contact_name": None,
        "contact_phone": None,
        "reference": None,
        "instructions": None,
    }
    for key, value in fields.items():
        if key in base["address"]:
            base["address"][key] = value
        else:
            base[key] = value
    return base


def item(quantity: float, unit: str | None, description: str) -> dict[str, Any]:
    return {"quantity": quantity, "unit": unit, "description": description}


def load(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_normalising_case_folds_deletes_punctuation_and_collapses_whitespace() -> None:
    assert normalise("  Unit 4,\n 22  Mill-Lane. ") == "unit 4 22 milllane"
    assert normalise("Café  Le Plateau Inc.") == "café le plateau inc"


def test_a_text_field_matches_at_token_f1_of_three_quarters_and_not_below() -> None:
    # Given a gold instruction of five tokens
    gold = record(instructions="call Jim on arrival please")
    # When the prediction misses one token (F1 8/9) it matches; when it misses three (F1 4/7) it does not
    assert score_record(gold, record(instructions="Call Jim on arrival")).fields["instructions"] == Counts(tp=1)
    assert score_record(gold, record(instructions="call Jim")).fields["instructions"] == Counts(fp=1, fn=1)
    assert token_f1("a b c d", "a b c") == pytest.approx(6 / 7)


def test_postcode_and_reference_must_match_exactly_after_normalising() -> None:
    gold = record(postcode="EH6 6QQ", reference="7731-22")
    assert score_record(gold, record(postcode="eh6 6qq", reference="7731-22")).total == Counts(tp=2)
    wrong = score_record(gold, record(postcode="EH6", reference="PO 7731-22"))
    assert wrong.fields["address.postcode"] == Counts(fp=1, fn=1)
    assert wrong.fields["reference"] == Counts(fp=1, fn=1)


def test_phones_compare_their_digits_with_a_leading_plus_kept() -> None:
    assert phone_digits("+44 (0)7700 900-123") == "+4407700900123"
    gold = record(contact_phone="(08) 5550 1187")
    assert score_record(gold, record(contact_phone="08 5550 1187")).fields["contact_phone"] == Counts(tp=1)
    assert score_record(gold, record(contact_phone="+08 5550 1187")).fields["contact_phone"] == Counts(fp=1, fn=1)


def test_null_against_null_is_not_counted_and_a_value_against_null_is_an_error_either_way() -> None:
    # Given a gold record with a city and no region
    gold = record(city="Leith")
    # When the prediction has no city but a region
    result = score_record(gold, record(region="Lothian"))
    # Then the missed city is a false negative, the invented region a false positive, all else uncounted
    assert result.fields["address.city"] == Counts(fn=1)
    assert result.fields["address.region"] == Counts(fp=1)
    assert result.total == Counts(fp=1, fn=1)
    assert score_record(record(), record()).total == Counts()


def test_items_pair_greedily_by_description_and_need_quantity_unit_and_description_to_count() -> None:
    gold = [item(12, "pallets", "A4 paper"), item(3, None, "brake pads"), item(2.5, "kg", "coffee beans")]
    predicted = [
        item(2.5, "KG", "coffee beans, ground"),  # F1 0.8, same quantity and unit: correct
        item(12.0, "pallet", "A4 paper"),  # singular unit, 12.0 == 12: correct
        item(4, None, "brake pads"),  # wrong quantity: one FP and one FN
        item(1, "box", "gloves"),  # matches no gold description: unpaired FP
    ]
    assert score_items(gold, predicted) == Counts(tp=2, fp=2, fn=1)


def test_units_match_singular_and_plural_and_both_missing_but_not_one_missing() -> None:
    assert units_match("boxes", "box") and units_match("Paletten", "Palette") and units_match("Fässer", "Fass")
    assert units_match(None, None)
    assert not units_match("boxes", None) and not units_match(None, "x") and not units_match("pallets", "cases")


def test_an_item_pair_with_a_description_f1_below_a_half_is_wrong() -> None:
    # "red paint tins large" against "paint": F1 = 2 * (1 * 0.25) / 1.25 = 0.4
    assert score_items([item(1, None, "red paint tins large")], [item(1, None, "paint")]) == Counts(fp=1, fn=1)


def test_a_schema_invalid_or_missing_prediction_turns_every_gold_value_into_a_miss() -> None:
    gold = record(consignee="Acme Ltd", city="Leith", items=[item(1, None, "desk")])
    for predicted in (None, {"consignee": "Acme Ltd"}, record(consignee=7)):
        result = score_record(gold, predicted)
        assert not result.valid and not result.exact
        assert result.total == Counts(fn=3)


def test_the_report_sums_counts_over_records_and_rates_records() -> None:
    # Given one exact record, one with a wrong city and one typed error
    gold = record(consignee="Acme Ltd", city="Leith")
    report = score(
        [("a", gold, copy.deepcopy(gold)), ("b", gold, record(consignee="ACME Ltd.", city="Perth")), ("c", gold, None)]
    )
    # Then the micro counts are the sums, and the rates are per record
    assert report.micro == Counts(tp=3, fp=1, fn=3)
    assert report.micro.f1 == pytest.approx(6 / 10)
    assert report.exact_rate == pytest.approx(1 / 3)
    assert report.valid_rate == pytest.approx(2 / 3)
    assert report.per_field["address.city"] == Counts(tp=1, fp=1, fn=2)
    assert report.as_dict()["micro_f1"] == report.micro.f1


@pytest.mark.parametrize("path", [HELDOUT, DEV_NOTES], ids=["heldout", "dev"])
def test_gold_scored_against_itself_is_perfect(path: Path) -> None:
    records = load(path)
    report = score((r["id"], r["gold"], copy.deepcopy(r["gold"])) for r in records)
    assert len(report.records) == len(records) > 0
    assert report.micro.f1 == 1.0 and report.micro.fp == report.micro.fn == 0
    assert report.exact_rate == 1.0 and report.valid_rate == 1.0
