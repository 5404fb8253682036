"""The engine's attention over packed rows: the model's linear layers see only the tokens rows really feed.

A decode forward feeds each row its pending token and its guesses (engine.py), a prefill each row the rest of
its prompt: a few tokens here, eight there. Padded to a rectangle, every row would pay the widest row's
width in every linear layer. Packed, the forward gets one row of all the real tokens (``input_ids`` [1, T]);
only attention needs each token's own cache row, so this function spreads the queries out to [rows, width],
attends each over its row's keys, and packs the outputs back.

It is registered with transformers as an attention implementation (``ENGINE_ATTENTION``) and serves only
forwards that carry a ``Packing`` (``slmq_packing``); any other forward of the same model (``generate()``
sharing it, a fine-tuning step) goes to transformers' SDPA as before. Few queries per row attend by two
matmuls, the query heads of one key head grouped (no copy of the keys per query head): torch's SDPA kernel
on the CPU takes several times as long for a few bf16 queries (bench/forward.py). Long prompts go to SDPA.
"""

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from transformers import AttentionInterface
from transformers.integrations.sdpa_attention import sdpa_attention_forward
from transformers.masking_utils import AttentionMaskInterface, sdpa_mask

ENGINE_ATTENTION = "slmq_engine"
MATMUL_WIDTH = 32  # rows whose widest feeds at most this many tokens attend by matmul; wider ones by SDPA


@dataclass(frozen=True)
class Packing:
    """Where each packed token sits: its row of the forward (``rows`` [T]) and its place in that row (``slots``
    [T]); ``visible`` [rows, 1, width, keys] is True where a query at a row's place may see a key."""

    rows: torch.Tensor
    slots: torch.Tensor
    visible: torch.Tensor

    @property
    def width(self) -> int:
        return int(self.visible.shape[2])


def engine_attention(
    module: torch.nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    scaling: float | None = None,
    dropout: float = 0.0,
    **kwargs: Any,
) -> tuple[torch.Tensor, None]:
    """Packed queries ([1, heads, T, dim]) against each row's keys ([rows, kv heads, keys, dim]); [1, T, heads, dim]."""
    packing: Packing | None = kwargs.pop("slmq_packing", None)
    if packing is None:
        return sdpa_attention_forward(
            module, query, key, value, attention_mask, dropout=dropout, scaling=scaling, **kwargs
        )
    rows, heads, dim = key.shape[0], query.shape[1], query.shape[3]
    padded = query.new_zeros(rows, heads, packing.width, dim)
    padded[packing.rows, :, packing.slots] = query[0].transpose(0, 1)
    scale = scaling if scaling is not None else dim**-0.5
    if packing.width <= MATMUL_WIDTH:
        output = _grouped(padded, key, value, packing.visible, scale)
    else:
        output = F.scaled_dot_product_attention(  # its CPU kernel reads keys stored transposed slowly (cache.py)
            padded, key.contiguous(), value, attn_mask=packing.visible, scale=scale, enable_gqa=heads != key.shape[1]
        )
    return output[packing.rows, :, packing.slots].unsqueeze(0), None


def _grouped(
    query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, visible: torch.Tensor, scale: float
) -> torch.Tensor:
    """Attention by two matmuls, each key head's query heads stacked (as repeat_kv would pair them)."""
    rows, heads, width, dim = query.shape
    kv_heads = key.shape[1]
    grouped = query.reshape(rows, kv_heads, heads // kv_heads * width, dim)
    scores = torch.matmul(grouped, key.transpose(-1, -2)).float().mul_(scale)
    scores = scores.view(rows, kv_heads, heads // kv_heads, width, -1).masked_fill_(
        ~visible.unsqueeze(1), float("-inf")
    )
    weights = torch.softmax(scores, dim=-1).to(value.dtype).view(rows, kv_heads, -1, scores.shape[-1])
    return torch.matmul(weights, value).view(rows, heads, width, dim)


def use_engine_attention(model: Any) -> None:
    """Serve ``model``'s attention through ``engine_attention`` (SDPA for forwards without a ``Packing``)."""
    AttentionInterface.register(ENGINE_ATTENTION, engine_attention)
    AttentionMaskInterface.register(ENGINE_ATTENTION, sdpa_mask)
    model.set_attn_implementation(ENGINE_ATTENTION)
