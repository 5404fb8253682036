"""Seeded choices that keep the train and held-out splits apart."""

import random
import zlib
from collections.abc import Sequence
from typing import Literal, TypeVar

Split = Literal["train", "heldout"]
T = TypeVar("T")

HELDOUT_SHARE = 5  # one pool value in five belongs to the held-out split


def _hash(value: object) -> int:
    key = value[0] if isinstance(value, tuple) else value
    return zlib.crc32(str(key).encode("utf-8"))


def split_pool(pool: Sequence[T], split: Split) -> list[T]:
    """The part of ``pool`` that ``split`` may use: values whose stable hash is 0 mod 5 are held out.

    A pool where no value hashes so gives its lowest-hash value to the held-out split, so neither part is empty.
    """
    heldout = [value for value in pool if _hash(value) % HELDOUT_SHARE == 0]
    if not heldout:
        heldout = [min(pool, key=_hash)]
    part = heldout if split == "heldout" else [value for value in pool if value not in heldout]
    if not part:
        raise ValueError(f"Pool {list(pool)[:3]}... has no values for the {split} split; add values to it.")
    return part


class Picker:
    """A seeded random source whose ``one`` draws only from the split's part of a pool."""

    def __init__(self, seed: str, split: Split) -> None:
        self.rng = random.Random(seed)
        self.split = split
        self._parts: dict[int, list[object]] = {}

    def one(self, pool: Sequence[T]) -> T:
        """A value of ``pool`` from this split's part (pools of names, places, goods, phrasings)."""
        key = id(pool)
        part = self._parts.get(key)
        if part is None:
            part = self._parts[key] = list(split_pool(pool, self.split))
        return part[self.rng.randrange(len(part))]  # type: ignore[return-value]

    def any(self, pool: Sequence[T]) -> T:
        """A value of ``pool`` shared by both splits (units, labels, number formats)."""
        return pool[self.rng.randrange(len(pool))]

    def chance(self, probability: float) -> bool:
        return self.rng.random() < probability

    def between(self, low: int, high: int) -> int:
        return self.rng.randint(low, high)

    def digits(self, pattern: str, mark: str = "d") -> str:
        """``pattern`` with each ``mark`` character replaced by a random digit."""
        return "".join(str(self.rng.randrange(10)) if char == mark else char for char in pattern)

    def sample(self, pool: Sequence[T], count: int) -> list[T]:
        part = split_pool(pool, self.split)
        return self.rng.sample(part, min(count, len(part)))

    def weighted(self, options: Sequence[tuple[T, float]]) -> T:
        values = [value for value, _ in options]
        weights = [weight for _, weight in options]
        return self.rng.choices(values, weights)[0]
