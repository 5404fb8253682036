"""Layout perturbations of generated training notes: the same words and values, another line structure.

A tagger trained on the generator's layouts reads the template-disjoint family worse (docs/evaluation.md): it
learns where the generator breaks its lines as much as what the words say. ``relayout`` changes only that, outside
every gold value: line breaks joined with one separator a note uses throughout (a form pasted into a chat, an
address block written on one line), or a one-line note's ", " broken into lines (a message typed line by line).
The gold record is unchanged; a change that would move, add or lose any gold span is not made.
"""

import random
import re
from collections.abc import Mapping
from typing import Any

from slmq.training.tagging import gold_spans

JOINERS = (" ", ", ", " | ", " / ", "; ", " - ", "  ")
_BREAKS = re.compile(r"[ \t]*\n+[ \t]*")
_COMMAS = re.compile(r", ")


def relayout(text: str, gold: Mapping[str, Any], rng: random.Random) -> str:
    """``text`` with its line breaks joined (or, in a note of few lines, its ", " broken), never inside a value."""
    spans = gold_spans(text, gold)
    covered = [False] * len(text)
    for found in spans.values():
        for span in found:
            covered[span.start : span.end] = [True] * (span.end - span.start)
    if text.count("\n") >= 3 or rng.random() < 0.5:
        pattern, share, replacement = _BREAKS, rng.uniform(0.3, 1.0), rng.choice(JOINERS)
    else:
        pattern, share, replacement = _COMMAS, rng.uniform(0.3, 0.8), "\n"
    pieces, last = [], 0
    for match in pattern.finditer(text):
        if any(covered[match.start() : match.end()]) or rng.random() >= share:
            continue
        pieces += [text[last : match.start()], replacement]
        last = match.end()
    changed = "".join([*pieces, text[last:]])
    counts = {kind: len(found) for kind, found in spans.items()}
    if changed == text or {kind: len(found) for kind, found in gold_spans(changed, gold).items()} != counts:
        return text
    return changed
