"""Scoring of delivery_note records by the contract's rules ("How answers are scored").

Counting, per record and per field (the eleven scalar fields, address parts included, and ``items``):

- text fields (consignee, street, city, region, country, delivery_date, contact_name, instructions) match when
  the token F1 of their normalised forms is at least 0.75; normalised = case-folded, punctuation characters
  (Unicode category P*) deleted, whitespace collapsed;
- ``postcode`` and ``reference`` match when their normalised forms are equal; ``contact_phone`` when their
  digits are equal, a leading ``+`` kept;
- gold null and prediction null: not counted. Gold value, prediction null: one false negative (FN). Gold null,
  prediction value: one false positive (FP). Both values: a match is one true positive (TP); a mismatch is one
  FP and one FN (a wrong value is both a spurious answer and a missed one);
- items are paired greedily by description: the pair with the highest description token F1 first, until no
  pair with an F1 above 0 is left. A pair is one TP when the quantities are equal, the units match (case and
  punctuation aside, singular and plural alike, both missing matches) and the description F1 is at least 0.5;
  otherwise one FP and one FN. Each unpaired gold item is one FN, each unpaired predicted item one FP;
- a prediction that is missing (a typed error) or not valid against the schema is schema-invalid and scored as
  if it were all null: every gold value is a FN.

Precision = TP / (TP + FP), recall = TP / (TP + FN), F1 = 2 TP / (2 TP + FP + FN); each is None when its
denominator is 0. The headline micro-F1 sums TP, FP and FN over every field and item of every record. A record
is exact when it is schema-valid and has no FP and no FN.
"""

import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from slmq.schemas import DeliveryNote

TEXT_MATCH_F1 = 0.75
ITEM_DESCRIPTION_F1 = 0.5
ADDRESS_FIELDS = ("street", "city", "region", "postcode", "country")
TOP_FIELDS = ("consignee", "delivery_date", "contact_name", "contact_phone", "reference", "instructions")
FIELDS = ("consignee", *(f"address.{name}" for name in ADDRESS_FIELDS), *TOP_FIELDS[1:], "items")
EXACT_FIELDS = {"address.postcode", "reference"}
PLURALS = {"fässer": "fass", "säcke": "sack", "rouleaux": "rouleau", "dozen": "doos", "kisten": "kiste"}


@dataclass
class Counts:
    """True positives, false positives and false negatives, with the ratios they give."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, other: "Counts") -> None:
        self.tp, self.fp, self.fn = self.tp + other.tp, self.fp + other.fp, self.fn + other.fn

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @property
    def f1(self) -> float | None:
        total = 2 * self.tp + self.fp + self.fn
        return 2 * self.tp / total if total else None


@dataclass
class RecordScore:
    """One record's counts per field, and whether its prediction was schema-valid."""

    id: str
    valid: bool
    fields: dict[str, Counts] = field(default_factory=dict)

    @property
    def total(self) -> Counts:
        total = Counts()
        for counts in self.fields.values():
            total.add(counts)
        return total

    @property
    def exact(self) -> bool:
        total = self.total
        return self.valid and total.fp == 0 and total.fn == 0


@dataclass
class Report:
    """Scores of a set of records: per field, micro-averaged, exact-record and schema-valid rates."""

    records: list[RecordScore]

    @property
    def per_field(self) -> dict[str, Counts]:
        sums = {name: Counts() for name in FIELDS}
        for record in self.records:
            for name, counts in record.fields.items():
                sums[name].add(counts)
        return sums

    @property
    def micro(self) -> Counts:
        total = Counts()
        for record in self.records:
            total.add(record.total)
        return total

    @property
    def exact_rate(self) -> float | None:
        return sum(r.exact for r in self.records) / len(self.records) if self.records else None

    @property
    def valid_rate(self) -> float | None:
        return sum(r.valid for r in self.records) / len(self.records) if self.records else None

    def as_dict(self) -> dict[str, Any]:
        """The report as plain JSON-ready data."""

        def ratios(counts: Counts) -> dict[str, Any]:
            return {"tp": counts.tp, "fp": counts.fp, "fn": counts.fn, "precision": counts.precision,
                    "recall": counts.recall, "f1": counts.f1}  # fmt: skip

        micro = self.micro
        return {
            "records": len(self.records),
            "micro_f1": micro.f1,
            "micro": ratios(micro),
            "exact_record_rate": self.exact_rate,
            "schema_valid_rate": self.valid_rate,
            "fields": {name: ratios(counts) for name, counts in self.per_field.items()},
        }


def normalise(text: str) -> str:
    """Case-folded, punctuation deleted, whitespace collapsed."""
    kept = "".join(char for char in text.casefold() if not unicodedata.category(char).startswith("P"))
    return " ".join(kept.split())


def phone_digits(text: str) -> str:
    """The digits of a phone number, with a leading + kept."""
    digits = "".join(char for char in text if char.isdigit())
    return "+" + digits if text.strip().startswith("+") else digits


def token_f1(a: str, b: str) -> float:
    """Token F1 of the normalised forms of ``a`` and ``b`` (1.0 when both normalise to nothing)."""
    left, right = normalise(a).split(), normalise(b).split()
    if not left or not right:
        return 1.0 if left == right else 0.0
    common = sum((Counter(left) & Counter(right)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(right), common / len(left)
    return 2 * precision * recall / (precision + recall)


def value_matches(name: str, gold: str, predicted: str) -> bool:
    """Whether a predicted value matches a gold value of field ``name``."""
    if name == "contact_phone":
        return phone_digits(gold) == phone_digits(predicted)
    if name in EXACT_FIELDS:
        return normalise(gold) == normalise(predicted)
    return token_f1(gold, predicted) >= TEXT_MATCH_F1


def _unit_forms(unit: str) -> set[str]:
    word = normalise(unit)
    forms = {word, word + "s", word + "es", word + "x", PLURALS.get(word, word)}
    for suffix in ("es", "s", "x", "en", "n"):  # English and French plurals, German -n/-en
        if word.endswith(suffix) and len(word) > len(suffix):
            forms.add(word[: -len(suffix)])
    return forms


def units_match(gold: str | None, predicted: str | None) -> bool:
    """Whether two units match: singular and plural alike, and a missing unit on both sides."""
    if gold is None or predicted is None:
        return gold is None and predicted is None
    return normalise(gold) == normalise(predicted) or bool(_unit_forms(gold) & _unit_forms(predicted))


def score_items(gold: list[Mapping[str, Any]], predicted: list[Mapping[str, Any]]) -> Counts:
    """Items paired greedily by description F1; see the module docstring for the counting."""
    pairs = sorted(
        ((token_f1(g["description"], p["description"]), gi, pi) for gi, g in enumerate(gold)
         for pi, p in enumerate(predicted)),
        key=lambda pair: (-pair[0], pair[1], pair[2]),
    )  # fmt: skip
    counts, used_gold, used_predicted = Counts(), set(), set()
    for f1, gi, pi in pairs:
        if f1 <= 0 or gi in used_gold or pi in used_predicted:
            continue
        used_gold.add(gi)
        used_predicted.add(pi)
        g, p = gold[gi], predicted[pi]
        same_quantity = abs(float(g["quantity"]) - float(p["quantity"])) < 1e-9
        if same_quantity and units_match(g["unit"], p["unit"]) and f1 >= ITEM_DESCRIPTION_F1:
            counts.tp += 1
        else:
            counts.fp += 1
            counts.fn += 1
    counts.fn += len(gold) - len(used_gold)
    counts.fp += len(predicted) - len(used_predicted)
    return counts


def _scalar(name: str, gold: str | None, predicted: str | None) -> Counts:
    if gold is None and predicted is None:
        return Counts()
    if predicted is None:
        return Counts(fn=1)
    if gold is None:
        return Counts(fp=1)
    return Counts(tp=1) if value_matches(name, gold, predicted) else Counts(fp=1, fn=1)


def _flat(record: Mapping[str, Any]) -> dict[str, Any]:
    address = record.get("address") or {}
    return {
        "consignee": record.get("consignee"),
        **{f"address.{name}": address.get(name) for name in ADDRESS_FIELDS},
        **{name: record.get(name) for name in TOP_FIELDS[1:]},
    }


def is_schema_valid(predicted: Any) -> bool:
    """Whether a prediction is a record of the delivery_note schema."""
    if not isinstance(predicted, Mapping):
        return False
    try:
        DeliveryNote.model_validate(predicted)
    except ValidationError:
        return False
    return True


def score_record(gold: Mapping[str, Any], predicted: Any, record_id: str = "") -> RecordScore:
    """Score one prediction (a record, or None for a typed error) against its gold record."""
    valid = is_schema_valid(predicted)
    flat_gold = _flat(gold)
    flat_predicted = _flat(predicted) if valid else dict.fromkeys(flat_gold)
    score = RecordScore(record_id, valid)
    for name in FIELDS[:-1]:
        score.fields[name] = _scalar(name, flat_gold[name], flat_predicted[name])
    score.fields["items"] = score_items(gold.get("items") or [], predicted["items"] if valid else [])
    return score


def score(pairs: Iterable[tuple[str, Mapping[str, Any], Any]]) -> Report:
    """A report over ``(id, gold, prediction)`` triples; a prediction of None is a typed error."""
    return Report([score_record(gold, predicted, record_id) for record_id, gold, predicted in pairs])
