"""The engine's KV cache: a row per sequence, each at its own length, allocated once and grown by doubling.

Row ``i`` holds its sequence's positions ``0 .. length-1`` at the same indices: no left padding, so no row
pays for another's prompt. The active sequences always fill rows ``0 .. n-1`` (one that finishes is
replaced by the last, ``move``), so a forward attends over a view of the buffers, never a gathered copy.
The model sees it as a transformers cache: its attention layers call ``update`` with each layer's new
keys and values for the forward's packed tokens (attention.py), written at the rows and positions
``prepare`` set. Keys are stored with positions innermost (``keys[layer]`` is a transposed view of that),
so attention multiplies by a row's keys transposed without copying them first.
"""

from typing import Any

import torch

MIN_CAPACITY = 256  # positions per row at first; doubled when a row needs more


class SlotCache:
    """Every layer's keys and values for up to ``slots`` sequences."""

    def __init__(self, slots: int, layers: int, kv_heads: int, head_dim: int, dtype: torch.dtype, device: str) -> None:
        self.slots = slots
        self.shape = (slots, kv_heads, 0, head_dim)
        self.layers = layers
        self.dtype = dtype
        self.device = device
        self.keys: list[torch.Tensor] = []
        self.values: list[torch.Tensor] = []
        self._index: tuple[torch.Tensor, torch.Tensor] | None = None  # (rows [T], positions [T])
        self._width = 0
        self._first = self._last = 0  # the rows a forward attends over

    @property
    def capacity(self) -> int:
        return self.keys[0].shape[2] if self.keys else 0

    def reserve(self, positions: int) -> None:
        """Room for ``positions`` per row, keeping what the rows hold."""
        if positions <= self.capacity:
            return
        capacity = max(MIN_CAPACITY, self.capacity)
        while capacity < positions:
            capacity *= 2
        slots, heads, _, dim = self.shape
        for buffers in (self.keys, self.values):
            for layer in range(self.layers):
                if buffers is self.keys:  # stored [.., dim, positions]: what attention's keys-transposed matmul reads
                    grown = torch.zeros(slots, heads, dim, capacity, dtype=self.dtype, device=self.device).transpose(
                        2, 3
                    )
                else:
                    grown = torch.zeros(slots, heads, capacity, dim, dtype=self.dtype, device=self.device)
                if layer < len(buffers):
                    grown[:, :, : buffers[layer].shape[2]] = buffers[layer]
                    buffers[layer] = grown
                else:
                    buffers.append(grown)

    def prepare(self, first: int, rows: torch.Tensor, positions: torch.Tensor) -> None:
        """The next forward writes its ``i``-th packed token at row ``first + rows[i]``, position ``positions[i]``."""
        self._width = int(positions.max()) + 1
        self.reserve(self._width)
        self._first, self._last = first, first + int(rows.max()) + 1
        self._index = ((rows + first).to(self.device), positions.to(self.device))

    def visible(self, positions: torch.Tensor) -> torch.Tensor:
        """[n, 1, width, keys] True where a query at ``positions`` ([n, width]) may see a key: up to itself."""
        keys = torch.arange(self._width, device=self.device)
        return (keys.view(1, 1, 1, -1) <= positions.to(self.device).unsqueeze(1).unsqueeze(-1)).contiguous()

    def update(
        self, key_states: torch.Tensor, value_states: torch.Tensor, layer_idx: int, *args: Any, **kwargs: Any
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Write one layer's new keys and values ([1, heads, T, dim], packed) and return all the rows attend over."""
        assert self._index is not None, "prepare() before each forward"
        rows, positions = self._index
        keys, values = self.keys[layer_idx], self.values[layer_idx]
        keys[rows, :, positions] = key_states[0].transpose(0, 1).to(self.dtype)
        values[rows, :, positions] = value_states[0].transpose(0, 1).to(self.dtype)
        window = slice(self._first, self._last)
        return keys[window, :, : self._width], values[window, :, : self._width]

    def load(self, row: int, keys: list[torch.Tensor], values: list[torch.Tensor], length: int) -> None:
        """Put the first ``length`` positions of a stored prefix ([heads, positions, dim] per layer) into ``row``."""
        self.reserve(length)
        for layer in range(self.layers):
            self.keys[layer][row, :, :length] = keys[layer][:, :length]
            self.values[layer][row, :, :length] = values[layer][:, :length]

    def read(self, row: int, length: int) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """Copies of ``row``'s first ``length`` positions, per layer."""
        keys = [layer[row, :, :length].clone() for layer in self.keys]
        return keys, [layer[row, :, :length].clone() for layer in self.values]

    def move(self, source: int, target: int, length: int) -> None:
        """Copy ``source``'s first ``length`` positions into ``target`` (the last active row filling a freed one)."""
        for buffers in (self.keys, self.values):
            for layer in buffers:
                layer[target, :, :length] = layer[source, :, :length]

    # What transformers' models may ask of a cache besides update: the engine passes positions and a mask itself.
    def get_seq_length(self, layer_idx: int = 0) -> int:
        return self._width

    def __len__(self) -> int:
        return self.layers
