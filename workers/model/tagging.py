"""Delivery notes as tagged spans, back to records (issue 13, item 3): the decoding half of the span tagger.

The contract copies every value verbatim from the note (rule 1), so a record is a set of spans of its note:
one per scalar field, and per item a quantity, a unit and a description. Given the spans a tagger found
(``workers.model.tagger``), this module builds the record and a confidence per field; training's alignment of
labelled records to spans is ``slmq.training.tagging``. No torch here.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

SCALARS = (
    "consignee", "address.street", "address.city", "address.region", "address.postcode", "address.country",
    "delivery_date", "contact_name", "contact_phone", "reference", "instructions",
)  # fmt: skip
ITEM_PARTS = ("item.quantity", "item.unit", "item.description")
KINDS = SCALARS + ITEM_PARTS
ADDRESS = tuple(kind for kind in SCALARS if kind.startswith("address."))
OFF_LINE = 1000  # a span on another line counts as this many characters further away
UNPAIRED = 1500  # the cost of a description without a measure: a measure on the next line is better than none
ONES = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
    "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
)  # fmt: skip
TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
SCALES = {"hundred": 100, "thousand": 1000}
NUMBER_WORD = "|".join(sorted([*ONES, *TENS, *SCALES], key=len, reverse=True))
WORDS = re.compile(rf"\b(?:{NUMBER_WORD})(?:(?:[\s-]+|\s+and\s+)(?:{NUMBER_WORD}))*\b", re.IGNORECASE)
DIGITS = (re.compile(r"\d+(?:[.,]\d+)*"), re.compile(r"\d+"))  # "1,500" whole, and each run of digits alone
EDGE = " \t\r\n,;:"  # stripped from a decoded span's ends: a token's leading space, a list's separator


@dataclass(frozen=True, order=True)
class Span:
    start: int
    end: int

    def distance(self, other: "Span", text: str) -> int:
        """Characters between the two spans, plus OFF_LINE when a line break lies between them."""
        left, right = (self, other) if self.start <= other.start else (other, self)
        gap = max(0, right.start - left.end)
        return gap + (OFF_LINE if "\n" in text[left.end : right.start] else 0)


@dataclass(frozen=True)
class Scored:
    """A span the tagger found, with its score (the mean probability that its tokens are in it)."""

    span: Span
    score: float


def parse_quantity(written: str) -> float | int | None:
    """A quantity as a number: "twelve" -> 12, "1,500" -> 1500, "2,5" -> 2.5, "1.250" -> 1250; None if not one."""
    word = written.strip().casefold()
    if WORDS.fullmatch(word):
        return _number_words(word)
    if not re.fullmatch(r"\d+(?:[.,]\d+)*", word):
        return None
    if "," in word and "." in word:  # the later separator is the decimal one
        decimal = "," if word.rfind(",") > word.rfind(".") else "."
        word = word.replace("." if decimal == "," else ",", "").replace(",", ".")
    elif re.fullmatch(r"\d{1,3}([.,])\d{3}(\1\d{3})*", word):
        word = re.sub(r"[.,]", "", word)
    else:
        word = word.replace(",", ".")
    if word.count(".") > 1:
        return None
    number = float(word)
    return int(number) if number.is_integer() else number


def _number_words(words: str) -> int:
    """English number words as a number: "fifty-four" -> 54, "two hundred and ten" -> 210."""
    total = current = 0
    for word in re.split(r"[\s-]+", words):
        if word in SCALES:
            current = max(current, 1) * SCALES[word]
            if word == "thousand":
                total, current = total + current, 0
        elif word != "and":
            current += TENS.get(word) or ONES.index(word)
    return total + current


def _within(inner: Span, outer: Span) -> bool:
    return outer.start <= inner.start and inner.end <= outer.end


def _wordish(char: str) -> bool:
    return char.isalnum() and ord(char) < 0x2E80  # letters and digits of scripts written with spaces (not CJK)


def snap(text: str, span: Span, measure: bool = False) -> Span:
    """``span`` grown to whole words: a tagger that tags "ilet rolls" of "toilet rolls", or "42-823-" of
    "42-823-CXB", meant the word it cut. Words join across a hyphen or slash between letters and digits. A
    ``measure`` (a quantity or its unit) does not grow from digits into letters or back: "12m" is 12 of m."""
    start, end = span.start, span.end

    def joined(left: str, right: str) -> bool:
        return not measure or left.isdigit() == right.isdigit()

    while start > 0 and _wordish(text[start - 1]) and _wordish(text[start]) and joined(text[start - 1], text[start]):
        start -= 1
    while (
        end < len(text)
        and _wordish(text[end])
        and (_wordish(text[end - 1]) or _joins(text, end - 1))
        and joined(text[end - 1], text[end])
    ):
        end += 1
    return Span(start, end)


def _joins(text: str, index: int) -> bool:
    return text[index] in "-/" and index > 0 and _wordish(text[index - 1])


def span_text(text: str, span: Span) -> str:
    """A span's value: whitespace collapsed, edge spaces and separators stripped, and a bracket that opens or closes
    nothing in it ("(+62 21 7468114": a tokenizer's "(+" token begins the number)."""
    value = " ".join(text[span.start : span.end].strip(EDGE).split())
    if value.startswith("(") and ")" not in value:
        value = value[1:].strip(EDGE)
    if value.endswith(")") and "(" not in value:
        value = value[:-1].strip(EDGE)
    return value


def record_from_spans(
    text: str, found: Mapping[str, Sequence[Scored]], absent: Mapping[str, float]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The record a tagger's spans make, and a confidence per field (the chosen span's score, items one each).

    A scalar takes its best-scored span; a field with none is null, with ``absent[kind]`` (how sure the tagger
    is that no token is in one) as its confidence. Items are the description spans in the note's order, each
    with the quantity and unit spans paired with it (``_measures``); a description with no quantity is not an
    item (every line of goods states one), and a quantity that does not parse as a number is 1.
    """
    record: dict[str, Any] = {"address": {}}
    confidence: dict[str, Any] = {}
    for kind in SCALARS:
        best = max(found.get(kind, ()), key=lambda scored: scored.score, default=None)
        value = span_text(text, best.span) if best else None
        if kind.startswith("address."):
            record["address"][kind.removeprefix("address.")] = value or None
        else:
            record[kind] = value or None
        confidence[kind] = best.score if best else absent.get(kind, 0.0)
    record["items"], confidence["items"] = [], []
    measures = [scored.span for kind in ITEM_PARTS[:2] for scored in found.get(kind, ())]
    descriptions = sorted(
        (d for d in found.get("item.description", ()) if not any(_within(d.span, m) for m in measures)),
        key=lambda scored: scored.span.start,
    )  # a description that is only a quantity or unit ("Kisten" tagged as both) is the measure, not goods
    for description, measure in zip(descriptions, _measures(text, found, descriptions), strict=True):
        if measure is None:
            continue
        quantity, unit = measure
        number = parse_quantity(span_text(text, quantity.span))
        record["items"].append({
            "quantity": 1 if number is None else number,
            "unit": (span_text(text, unit.span) or None) if unit else None,
            "description": span_text(text, description.span),
        })  # fmt: skip
        confidence["items"].append(description.score)
    return record, confidence


Measure = tuple[Scored, Scored | None]  # a quantity and the unit written with it


def _measures(text: str, found: Mapping[str, Sequence[Scored]], descriptions: Sequence[Scored]) -> list[Measure | None]:
    """Each description's quantity and unit: the order-keeping pairing of measures and goods that lies closest.

    A unit goes with the quantity nearest it ("9 packs", "qty 3 bales"). Measures and descriptions are then
    paired in the note's order, each at most once, so that the pairs' distances plus UNPAIRED for every
    description left without a measure are least: "tape x9 packs + A3 paper x95 reams" (measures after),
    "1000 packs, that's the toilet rolls, and five drums, that's the floor polish" (before), or a mix of both.
    """
    quantities = sorted(found.get("item.quantity", ()), key=lambda scored: scored.span.start)
    units: dict[int, list[Scored]] = {i: [] for i in range(len(quantities))}
    for unit in found.get("item.unit", ()):
        if quantities:
            units[min(range(len(quantities)), key=lambda i: quantities[i].span.distance(unit.span, text))].append(unit)
    measures = [(q, max(units[i], key=lambda u: u.score, default=None)) for i, q in enumerate(quantities)]
    n, k = len(descriptions), len(measures)
    # cost[i][j]: the least cost of pairing the first i descriptions with the first j measures
    cost = [[0.0] * (k + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        cost[i][0] = i * UNPAIRED
    for i in range(1, n + 1):
        for j in range(1, k + 1):
            pair = cost[i - 1][j - 1] + _measure_distance(measures[j - 1], descriptions[i - 1], text)
            cost[i][j] = min(cost[i - 1][j] + UNPAIRED, cost[i][j - 1], pair)
    chosen: list[Measure | None] = [None] * n
    i, j = n, k
    while i and j:
        if cost[i][j] == cost[i][j - 1]:
            j -= 1
        elif cost[i][j] == cost[i - 1][j] + UNPAIRED:
            i -= 1
        else:
            chosen[i - 1] = measures[j - 1]
            i, j = i - 1, j - 1
    return chosen


def _measure_distance(measure: Measure, description: Scored, text: str) -> int:
    quantity, unit = measure
    return min(
        quantity.span.distance(description.span, text),
        unit.span.distance(description.span, text) if unit else OFF_LINE * 9,
    )
