"""Prompt prefixes many prompts share (a task type's instructions and chat template), computed once.

Causal attention makes the keys and values of a prompt's first ``m`` positions depend on those ``m``
tokens alone, so any stored prefix serves every prompt for as far as the two agree.
"""

from collections import OrderedDict

import torch

MIN_SHARED = 16  # tokens: shorter common starts are not worth a stored prefix
MAX_STORED = 4  # prefixes kept, least recently used dropped first

Layers = list[torch.Tensor]  # one [heads, positions, dim] tensor per layer


def common_length(a: list[int] | tuple[int, ...], b: list[int] | tuple[int, ...]) -> int:
    """How many leading tokens ``a`` and ``b`` share."""
    for index, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return index
    return min(len(a), len(b))


class PrefixStore:
    """Stored prefixes and their keys and values; remembers the last prompt that had none, to find new ones."""

    def __init__(self) -> None:
        self.entries: OrderedDict[tuple[int, ...], tuple[Layers, Layers]] = OrderedDict()
        self.recent: list[int] = []

    def match(self, prompt: list[int]) -> tuple[int, tuple[Layers, Layers] | None]:
        """The longest stored start of ``prompt`` (leaving its last token to compute) and its keys and values."""
        best, found = 0, None
        for tokens, kv in self.entries.items():
            length = min(common_length(tokens, prompt), len(prompt) - 1)
            if length > best:
                best, found = length, (tokens, kv)
        if found is None or best < MIN_SHARED:
            return 0, None
        self.entries.move_to_end(found[0])
        return best, found[1]

    def candidate(self, prompt: list[int]) -> int:
        """How much of ``prompt`` to store, shared with the last prompt that had no prefix; 0 for none."""
        length = min(common_length(self.recent, prompt), len(prompt) - 1)
        self.recent = prompt
        return length if length >= MIN_SHARED else 0

    def add(self, tokens: list[int], keys: Layers, values: Layers) -> None:
        self.entries[tuple(tokens)] = (keys, values)
        while len(self.entries) > MAX_STORED:
            self.entries.popitem(last=False)
