"""Seeded generator of synthetic delivery notes with gold records that follow the delivery_note contract.

``generate(count, seed, split)`` yields ``{"id", "text", "gold", "tags"}`` records like the dev notes. The
``heldout`` split draws only from the held-out fifth of every pool of names, places, goods and phrasings
(a stable hash of each value decides its split), so no held-out value is ever seen in training.
"""

from collections.abc import Iterator
from typing import Any

from slmq.notegen.note import make_note, unspanned
from slmq.notegen.picker import Split

DATA_VERSION = "delivery_note-synth-11"

__all__ = ["DATA_VERSION", "Split", "generate", "unspanned"]


def generate(count: int, seed: int, split: Split) -> Iterator[dict[str, Any]]:
    """``count`` notes of ``split``, deterministic for (seed, split); note i is the same whatever ``count`` is."""
    if split not in ("train", "heldout"):
        raise ValueError(f"Unknown split {split!r}; use 'train' or 'heldout'.")
    for index in range(count):
        yield make_note(seed, split, index, DATA_VERSION)
