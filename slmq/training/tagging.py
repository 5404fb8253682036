"""Labelled delivery notes as tagged spans (issue 13, item 3): where a gold record's values stand in its note.

The training half of the span tagger (``slmq.training.tagger``): the spans it learns to tag. Spans back to
records is the worker's (``workers.model.tagging``). No torch here.
"""

import re
from collections.abc import Mapping, Sequence
from typing import Any

from workers.model.tagging import ADDRESS, DIGITS, ITEM_PARTS, SCALARS, WORDS, Span, parse_quantity


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
