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

Every FP and FN is also one error of a kind, so that per field FP = wrong + spurious and FN = wrong + missing:

- wrong: gold and prediction both values that do not match (the one FP and one FN of a mismatch); for
  ``items``, a pair made by the greedy pairing (description F1 above 0) that is not correct: its quantities
  differ, its units do not match or its description F1 is below 0.5 (the ``differs`` of its ``Mistake``);
- missing: a gold value with a null prediction; for ``items``, a gold item left unpaired;
- spurious: a predicted value with a null gold; for ``items``, a predicted item left unpaired.

A schema-invalid prediction's gold values are all missing.
"""

import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import ValidationError

from slmq.schemas import DeliveryNote

TEXT_MATCH_F1 = 0.75
ITEM_DESCRIPTION_F1 = 0.5
ADDRESS_FIELDS = ("street", "city", "region", "postcode", "country")
TOP_FIELDS = ("consignee", "delivery_date", "contact_name", "contact_phone", "reference", "instructions")
FIELDS = ("consignee", *(f"address.{name}" for name in ADDRESS_FIELDS), *TOP_FIELDS[1:], "items")
EXACT_FIELDS = {"address.postcode", "reference"}
Kind = Literal["wrong", "missing", "spurious"]
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
class Errors:
    """Errors by kind (see the module docstring): wrong (items: paired wrong), missing and spurious."""

    wrong: int = 0
    missing: int = 0
    spurious: int = 0

    def add(self, other: "Errors") -> None:
        self.wrong, self.missing = self.wrong + other.wrong, self.missing + other.missing
        self.spurious += other.spurious

    def as_dict(self) -> dict[str, int]:
        return {"wrong": self.wrong, "missing": self.missing, "spurious": self.spurious}


@dataclass(frozen=True)
class Mistake:
    """One error of a prediction: its field, its kind, the gold and the predicted value (an item, for items)."""

    field: str
    kind: Kind
    gold: Any
    predicted: Any
    differs: tuple[str, ...] = ()  # a paired-wrong item's failed tests: "quantity", "unit", "description"

    def as_dict(self) -> dict[str, Any]:
        line = {"field": self.field, "kind": self.kind, "gold": self.gold, "predicted": self.predicted}
        return {**line, "differs": list(self.differs)} if self.differs else line


@dataclass
class RecordScore:
    """One record's counts per field, its mistakes, and whether its prediction was schema-valid."""

    id: str
    valid: bool
    fields: dict[str, Counts] = field(default_factory=dict)
    mistakes: list[Mistake] = field(default_factory=list)

    @property
    def errors(self) -> dict[str, Errors]:
        errors = {name: Errors() for name in self.fields}
        for mistake in self.mistakes:
            errors.setdefault(mistake.field, Errors()).add(Errors(**{mistake.kind: 1}))
        return errors

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
    def per_field_errors(self) -> dict[str, Errors]:
        sums = {name: Errors() for name in FIELDS}
        for record in self.records:
            for name, errors in record.errors.items():
                sums[name].add(errors)
        return sums

    @property
    def errors(self) -> Errors:
        total = Errors()
        for errors in self.per_field_errors.values():
            total.add(errors)
        return total

    @property
    def exact_rate(self) -> float | None:
        return sum(r.exact for r in self.records) / len(self.records) if self.records else None

    @property
    def valid_rate(self) -> float | None:
        return sum(r.valid for r in self.records) / len(self.records) if self.records else None

    def as_dict(self) -> dict[str, Any]:
        """The report as plain JSON-ready data."""

        def ratios(counts: Counts, errors: Errors) -> dict[str, Any]:
            return {"tp": counts.tp, "fp": counts.fp, "fn": counts.fn, "precision": counts.precision,
                    "recall": counts.recall, "f1": counts.f1, **errors.as_dict()}  # fmt: skip

        micro, errors = self.micro, self.per_field_errors
        return {
            "records": len(self.records),
            "micro_f1": micro.f1,
            "micro": ratios(micro, self.errors),
            "exact_record_rate": self.exact_rate,
            "schema_valid_rate": self.valid_rate,
            "fields": {name: ratios(counts, errors[name]) for name, counts in self.per_field.items()},
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


def pair_items(gold: list[Mapping[str, Any]], predicted: list[Mapping[str, Any]]) -> list[tuple[int, int, float]]:
    """Greedy pairs ``(gold index, predicted index, description F1)``: the highest F1 first, while above 0."""
    candidates = sorted(
        ((token_f1(g["description"], p["description"]), gi, pi) for gi, g in enumerate(gold)
         for pi, p in enumerate(predicted)),
        key=lambda pair: (-pair[0], pair[1], pair[2]),
    )  # fmt: skip
    pairs: list[tuple[int, int, float]] = []
    used_gold, used_predicted = set(), set()
    for f1, gi, pi in candidates:
        if f1 <= 0 or gi in used_gold or pi in used_predicted:
            continue
        used_gold.add(gi)
        used_predicted.add(pi)
        pairs.append((gi, pi, f1))
    return pairs


def item_differences(gold: Mapping[str, Any], predicted: Mapping[str, Any], description_f1: float) -> tuple[str, ...]:
    """What makes a pair of items wrong: ``quantity``, ``unit``, ``description``; empty when it is correct."""
    same_quantity = abs(float(gold["quantity"]) - float(predicted["quantity"])) < 1e-9
    tests = (same_quantity, units_match(gold["unit"], predicted["unit"]), description_f1 >= ITEM_DESCRIPTION_F1)
    return tuple(name for name, passed in zip(("quantity", "unit", "description"), tests, strict=True) if not passed)


def judge_items(gold: list[Mapping[str, Any]], predicted: list[Mapping[str, Any]]) -> tuple[Counts, list[Mistake]]:
    """The counts of a record's items and its item mistakes: paired wrong (in gold order), missing, spurious."""
    counts, wrong = Counts(), []
    pairs = pair_items(gold, predicted)
    for gi, pi, f1 in sorted(pairs):
        differs = item_differences(gold[gi], predicted[pi], f1)
        if differs:
            counts.fp += 1
            counts.fn += 1
            wrong.append(Mistake("items", "wrong", dict(gold[gi]), dict(predicted[pi]), differs))
        else:
            counts.tp += 1
    in_gold, in_answer = {gi for gi, _, _ in pairs}, {pi for _, pi, _ in pairs}
    missing = [Mistake("items", "missing", dict(g), None) for i, g in enumerate(gold) if i not in in_gold]
    spurious = [Mistake("items", "spurious", None, dict(p)) for i, p in enumerate(predicted) if i not in in_answer]
    counts.fn += len(missing)
    counts.fp += len(spurious)
    return counts, [*wrong, *missing, *spurious]


def score_items(gold: list[Mapping[str, Any]], predicted: list[Mapping[str, Any]]) -> Counts:
    """Items paired greedily by description F1; see the module docstring for the counting."""
    return judge_items(gold, predicted)[0]


def _scalar(name: str, gold: str | None, predicted: str | None) -> tuple[Counts, Mistake | None]:
    if gold is None and predicted is None:
        return Counts(), None
    if predicted is None:
        return Counts(fn=1), Mistake(name, "missing", gold, None)
    if gold is None:
        return Counts(fp=1), Mistake(name, "spurious", None, predicted)
    if value_matches(name, gold, predicted):
        return Counts(tp=1), None
    return Counts(fp=1, fn=1), Mistake(name, "wrong", gold, predicted)


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
        score.fields[name], mistake = _scalar(name, flat_gold[name], flat_predicted[name])
        if mistake:
            score.mistakes.append(mistake)
    score.fields["items"], item_mistakes = judge_items(gold.get("items") or [], predicted["items"] if valid else [])
    score.mistakes.extend(item_mistakes)
    return score


def score(pairs: Iterable[tuple[str, Mapping[str, Any], Any]]) -> Report:
    """A report over ``(id, gold, prediction)`` triples; a prediction of None is a typed error."""
    return Report([score_record(gold, predicted, record_id) for record_id, gold, predicted in pairs])


def auroc(scored: list[tuple[float, bool]]) -> float | None:
    """The chance that a right field's confidence is above a wrong one's (ties count half)."""
    right = [c for c, ok in scored if ok]
    wrong = [c for c, ok in scored if not ok]
    if not right or not wrong:
        return None
    above = sum((r > w) + 0.5 * (r == w) for r in right for w in wrong)
    return round(above / (len(right) * len(wrong)), 4)
