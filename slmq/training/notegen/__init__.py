"""Seeded generator of synthetic delivery notes with gold records that follow the delivery_note contract.

``generate(count, seed, split)`` yields ``{"id", "text", "gold", "tags"}`` records like the dev notes. The
``heldout`` split draws only from the held-out fifth of every pool of names, places, goods and phrasings
(a stable hash of each value decides its split), so no held-out value is ever seen in training. The
``disjoint`` split (``slmq.training.notegen.disjoint``) is for evaluation only: a second family of layouts and
phrasings, written apart, with held-out values.
"""

from collections.abc import Iterator
from typing import Any, Literal

from slmq.training.notegen import disjoint
from slmq.training.notegen.note import make_note, unspanned
from slmq.training.notegen.picker import Split

DATA_VERSION = "delivery_note-synth-19"

__all__ = ["DATA_VERSION", "Split", "generate", "unspanned"]


def generate(count: int, seed: int, split: Split | Literal["disjoint"]) -> Iterator[dict[str, Any]]:
    """``count`` notes of ``split``, deterministic for (seed, split); note i is the same whatever ``count`` is."""
    if split == "disjoint":
        yield from disjoint.generate(count, seed)
        return
    if split not in ("train", "heldout"):
        raise ValueError(f"Unknown split {split!r}; use 'train' or 'heldout' (or 'disjoint', for evaluation only).")
    for index in range(count):
        yield make_note(seed, split, index, DATA_VERSION)
