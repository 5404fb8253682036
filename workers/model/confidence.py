"""Per-value confidence: the model's own probability of each value it wrote in a JSON answer.

A value's confidence is the product of the probabilities of the tokens that wrote it, each under the row's
constraint (grammar and copy masks): the chance that, given the record so far, the model writes exactly this
value. A token counts for every value whose bytes it touches, so the token that opens a string (rather than
``null``) and the one that closes it (where a copied span ends) count too; a token the constraint forced has
probability 1 and costs nothing.
"""

import math
from collections.abc import Callable, Iterator

JsonPath = tuple[str | int, ...]  # keys and list indices from the document's root to a value
_WHITESPACE = b" \t\r\n"
_VALUE_ENDS = b",}]" + _WHITESPACE  # what ends a number, true, false or null


def value_spans(document: bytes) -> dict[JsonPath, tuple[int, int]]:
    """The byte range ``[start, end)`` of every value in the first JSON value of ``document``, by path.

    Text before the first ``{`` or ``[`` is skipped; ``ValueError`` when what follows is not JSON.
    """
    starts = [i for i in (document.find(b"{"), document.find(b"[")) if i >= 0]
    if not starts:
        raise ValueError("no JSON object or array in the output")
    spans: dict[JsonPath, tuple[int, int]] = {}
    _value(document, min(starts), (), spans)
    return spans


def span_confidence(
    pieces: tuple[bytes, ...], logprobs: tuple[float, ...], start: int, end: int,
    combine: Callable[[list[float]], float] = sum,
) -> float:  # fmt: skip
    """The probability of the tokens whose bytes overlap ``[start, end)`` of their concatenation.

    ``combine`` joins their log-probabilities: ``sum`` (all of them, the default) or e.g. ``min``.
    """
    overlapping = [lp for (low, high), lp in zip(_offsets(pieces), logprobs, strict=True) if high > start and low < end]
    return math.exp(combine(overlapping)) if overlapping else 1.0


def _offsets(pieces: tuple[bytes, ...]) -> Iterator[tuple[int, int]]:
    offset = 0
    for piece in pieces:
        yield offset, offset + len(piece)
        offset += len(piece)


def _value(document: bytes, at: int, path: JsonPath, spans: dict[JsonPath, tuple[int, int]]) -> int:
    """Scan the value at ``at``, record it and its children under ``path``; the index after it."""
    at = _skip(document, at)
    if at >= len(document):
        raise ValueError("the JSON ends before a value")
    first = document[at : at + 1]
    if first == b"{":
        end = _container(document, at, path, spans, close=b"}", keyed=True)
    elif first == b"[":
        end = _container(document, at, path, spans, close=b"]", keyed=False)
    elif first == b'"':
        end = _string_end(document, at)
    else:
        end = at
        while end < len(document) and document[end] not in _VALUE_ENDS:
            end += 1
        if end == at:
            raise ValueError(f"no JSON value at byte {at}")
    spans[path] = (at, end)
    return end


def _container(
    document: bytes, at: int, path: JsonPath, spans: dict[JsonPath, tuple[int, int]], close: bytes, keyed: bool
) -> int:
    at = _skip(document, at + 1)
    index = 0
    while document[at : at + 1] != close:
        if index:
            if document[at : at + 1] != b",":
                raise ValueError(f"expected ',' at byte {at}")
            at = _skip(document, at + 1)
        if keyed:
            key_end = _string_end(document, at)
            key: str | int = document[at + 1 : key_end - 1].decode("utf-8", "replace")
            at = _skip(document, key_end)
            if document[at : at + 1] != b":":
                raise ValueError(f"expected ':' at byte {at}")
            at += 1
        else:
            key = index
        at = _skip(document, _value(document, at, (*path, key), spans))
        index += 1
        if at >= len(document):
            raise ValueError("the JSON ends inside an object or array")
    return at + 1


def _string_end(document: bytes, at: int) -> int:
    if document[at : at + 1] != b'"':
        raise ValueError(f"expected a string at byte {at}")
    index = at + 1
    while index < len(document):
        if document[index : index + 1] == b"\\":
            index += 2
            continue
        if document[index : index + 1] == b'"':
            return index + 1
        index += 1
    raise ValueError("a JSON string is not closed")


def _skip(document: bytes, at: int) -> int:
    while at < len(document) and document[at] in _WHITESPACE:
        at += 1
    return at
