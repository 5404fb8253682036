"""Delivery notes as tagged spans (issue 13, item 3): gold records to character spans, spans back to records.

The contract copies every value verbatim from the note (rule 1), so a record is a set of spans of its note:
one per scalar field, and per item a quantity, a unit and a description. This module is the pure half of the
span-tagging formulation (``slmq.training.tagger`` is the model): where a labelled record's values stand in
its note, and which record a set of scored spans makes. No torch here.
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


def _value(record: Mapping[str, Any], kind: str) -> Any:
    if kind.startswith("address."):
        return (record.get("address") or {}).get(kind.removeprefix("address."))
    return record.get(kind)


def occurrences(text: str, value: str) -> list[Span]:
    """Where ``value`` stands in ``text``, whitespace collapsed; whole words first, any match where none is whole."""
    words = value.split()
    if not words:
        return []
    body = r"\s+".join(map(re.escape, words))
    before = r"(?<!\w)" if re.match(r"\w", words[0]) else ""
    after = r"(?!\w)" if re.search(r"\w$", words[-1]) else ""
    for pattern in (before + body + after, body):
        found = [Span(m.start(), m.end()) for m in re.finditer(pattern, text)]
        if found:
            return found
    return []


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


def _nearest(candidates: Sequence[Span], anchor: Span, text: str) -> Span | None:
    return min(candidates, key=lambda span: span.distance(anchor, text), default=None)


def _address_spans(text: str, gold: Mapping[str, Any]) -> dict[str, list[Span]]:
    """The delivery address's parts where they stand together: each part nearest the anchor part's occurrence.

    A note may name the same town or country in the sender's address too; the delivery address is the one
    whose parts are closest to each other, so the anchor (street, else postcode, else city) is the occurrence
    with its other parts nearest, and every other part takes its occurrence nearest that anchor.
    """
    found = {kind: occurrences(text, value) for kind in ADDRESS if isinstance(value := _value(gold, kind), str)}
    found = {kind: spans for kind, spans in found.items() if spans}
    if not found:
        return {}
    anchor_kind = next(
        kind for kind in ("address.street", "address.postcode", "address.city", *ADDRESS) if kind in found
    )

    def spread(anchor: Span) -> int:
        return sum(min(s.distance(anchor, text) for s in spans) for kind, spans in found.items() if kind != anchor_kind)

    anchor = min(found[anchor_kind], key=spread)
    return {
        kind: [anchor if kind == anchor_kind else _nearest(spans, anchor, text) or anchor]
        for kind, spans in found.items()
    }


def _item_spans(text: str, items: Sequence[Mapping[str, Any]]) -> dict[str, list[Span]]:
    """Each item's description (the first at or after the previous item's), and its quantity and unit nearest it."""
    spans: dict[str, list[Span]] = {kind: [] for kind in ITEM_PARTS}
    written = {Span(m.start(), m.end()) for pattern in (*DIGITS, WORDS) for m in pattern.finditer(text)}
    numbers = sorted(span for span in written if not _inside_word(text, span.start, span.end))
    cursor = 0
    for item in items:
        found = occurrences(text, str(item.get("description") or ""))
        if not found:
            continue
        description = next((span for span in found if span.start >= cursor), found[0])
        cursor = description.end
        spans["item.description"].append(description)
        quantity = [span for span in numbers if parse_quantity(text[span.start : span.end]) == item.get("quantity")]
        quantity = [span for span in quantity if not _overlaps(span, description)]
        measure = _nearest(quantity, description, text)
        if measure is not None:
            spans["item.quantity"].append(measure)
        unit = item.get("unit")
        units = [span for span in occurrences(text, unit) if not _overlaps(span, description)] if unit else []
        if (nearest := _nearest(units, measure or description, text)) is not None:  # "9 packs": next to its number
            spans["item.unit"].append(nearest)
    return spans


def _inside_word(text: str, start: int, end: int) -> bool:
    """A number glued to letters on both sides is part of a code ("A4", "X200B"), not a quantity; "12x" is one."""
    return start > 0 and text[start - 1].isalpha() and end < len(text) and text[end].isalpha()


def _within(inner: Span, outer: Span) -> bool:
    return outer.start <= inner.start and inner.end <= outer.end


def _overlaps(a: Span, b: Span) -> bool:
    return a.start < b.end and b.start < a.end


def gold_spans(text: str, gold: Mapping[str, Any]) -> dict[str, list[Span]]:
    """Every span of ``text`` the tagger should learn for ``gold``, by kind.

    The address parts stand together (see ``_address_spans``); every other scalar is tagged wherever its value
    stands (the consignee or the reference named twice is still the consignee or the reference); items are paired
    with their quantity and unit nearest their description.
    """
    spans: dict[str, list[Span]] = _address_spans(text, gold)
    for kind in SCALARS:
        value = _value(gold, kind)
        if kind not in ADDRESS and isinstance(value, str):
            spans[kind] = occurrences(text, value)
    spans.update(_item_spans(text, gold.get("items") or []))
    return {kind: found for kind, found in spans.items() if found}


def _wordish(char: str) -> bool:
    return char.isalnum() and ord(char) < 0x2E80  # letters and digits of scripts written with spaces (not CJK)


def snap(text: str, span: Span) -> Span:
    """``span`` grown to whole words: a tagger that tags "ilet rolls" of "toilet rolls", or "42-823-" of
    "42-823-CXB", meant the word it cut. Words join across a hyphen or slash between letters and digits."""
    start, end = span.start, span.end
    while start > 0 and _wordish(text[start - 1]) and _wordish(text[start]):
        start -= 1
    while end < len(text) and _wordish(text[end]) and (_wordish(text[end - 1]) or _joins(text, end - 1)):
        end += 1
    return Span(start, end)


def _joins(text: str, index: int) -> bool:
    return text[index] in "-/" and index > 0 and _wordish(text[index - 1])


def span_text(text: str, span: Span) -> str:
    """A span's value: whitespace collapsed, edge spaces and separators stripped."""
    return " ".join(text[span.start : span.end].strip(EDGE).split())


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
