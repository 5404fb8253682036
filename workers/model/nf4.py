"""nf4 layers made dense: for serving (``to_dense_layers``, ``dense_dtype``) and for training (``ServedLinear``).

What bitsandbytes computes for an nf4 ``Linear4bit`` at inference depends on the CPU. Where the CPU has
AVX-512 bf16 (Intel Sapphire Rapids and later, AMD Zen 4 and later), a layer in eval mode whose input needs
no gradient repacks its weight on its first call and runs a fused bf16 kernel: the input and the block
scales are rounded to bf16 (logits move by up to ~0.75 on SmolLM2-135M against the fp32 path). Elsewhere,
and whenever a gradient is needed, it dequantizes the weight to fp32 and runs ``F.linear``.

Training needs gradients, so it would always take the fp32 path and learn over outputs the worker never
serves on a bf16 CPU. :class:`ServedLinear` is an ``nn.Linear`` (PEFT wraps it like any other) that holds the
dequantized fp32 weight for the backward pass and, where the served kernel differs, runs the forward pass
through the worker's own kernel, so training sees the served outputs bit for bit on both kinds of CPU.
"""

from collections.abc import Callable
from typing import Any

import torch
from bitsandbytes.functional import dequantize_4bit, has_avx512bf16
from bitsandbytes.nn.modules import Linear4bit


def served_kernel_differs(layer: Linear4bit, device: torch.device) -> bool:
    """Whether ``layer`` serves through the fused bf16 CPU kernel rather than the fp32 dequantize-and-matmul."""
    return device.type == "cpu" and bool(getattr(layer, "support_avx512bf16_for_cpu", has_avx512bf16()))  # type: ignore[no-untyped-call]


class _ServedForward(torch.autograd.Function):
    """Forward: the served layer's output. Backward: the gradient of the dequantized fp32 matmul."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, weight: torch.Tensor, served: Linear4bit) -> torch.Tensor:
        ctx.save_for_backward(weight)
        with torch.no_grad():
            out: torch.Tensor = served(x.detach())  # a detached input in eval mode takes the inference kernel
        return out

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None, None]:
        (weight,) = ctx.saved_tensors
        return grad @ weight.to(grad.dtype), None, None


class ServedLinear(torch.nn.Linear):
    """A frozen nf4 layer as a plain fp32 ``Linear`` whose outputs are the served ``Linear4bit``'s."""

    def __init__(self, layer: Linear4bit) -> None:
        weight = dequantized_weight(layer)
        super().__init__(layer.in_features, layer.out_features, bias=layer.bias is not None, device=weight.device)
        self.weight = torch.nn.Parameter(weight, requires_grad=False)
        if layer.bias is not None:
            self.bias = torch.nn.Parameter(layer.bias.data.to(torch.float32), requires_grad=False)
        # Kept outside the module tree: model.train() must not reach it (the served kernel needs eval mode).
        self._served: Linear4bit | None = layer.eval() if served_kernel_differs(layer, weight.device) else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self._served is None:
            return super().forward(x)  # the same math as bitsandbytes' fp32 path: dequantize, then F.linear
        return _ServedForward.apply(x, self.weight, self._served)  # type: ignore[no-any-return,no-untyped-call]

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "_served":
            object.__setattr__(self, name, value)  # not a submodule: no state dict entry, no train()
        else:
            super().__setattr__(name, value)


def dequantized_weight(layer: Linear4bit) -> torch.Tensor:
    """The fp32 weight ``layer``'s nf4 values stand for."""
    packed: Any = layer.weight
    return dequantize_4bit(packed.data, packed.quant_state).to(torch.float32)


def dense_linear(layer: Linear4bit) -> torch.nn.Linear:
    """A plain fp32 ``Linear`` holding ``layer``'s dequantized weight and its bias (serving)."""
    # On the meta device: no random initialisation of weights that are replaced at once.
    dense = torch.nn.Linear(layer.in_features, layer.out_features, bias=layer.bias is not None, device="meta")
    dense.weight = torch.nn.Parameter(dequantized_weight(layer), requires_grad=False)
    if layer.bias is not None:
        dense.bias = torch.nn.Parameter(layer.bias.data.to(torch.float32), requires_grad=False)
    return dense


def to_served_layers(model: Any) -> None:
    """Replace each ``Linear4bit`` of ``model`` by a :class:`ServedLinear` (training), and make it dense for PEFT."""
    _replace_nf4_layers(model, ServedLinear)


def to_dense_layers(model: Any) -> None:
    """Replace each ``Linear4bit`` of ``model`` by a plain fp32 ``Linear`` of its dequantized weight (serving)."""
    _replace_nf4_layers(model, dense_linear)


def _replace_nf4_layers(model: Any, dense: Callable[[Linear4bit], torch.nn.Linear]) -> None:
    for name, module in list(model.named_modules()):
        if isinstance(module, Linear4bit):
            parent, _, child = name.rpartition(".")
            setattr(model.get_submodule(parent), child, dense(module))
    model.hf_quantizer.remove_quantization_config(model)  # dense now: PEFT must not treat it as 4-bit
    model.is_loaded_in_4bit = False


def dense_dtype(device: str, bf16_kernel: bool | None = None) -> torch.dtype | None:
    """The dtype a worker serves nf4 weights in with ``dequantize = true`` on ``device``; None where they stay nf4.

    On a CPU without AVX-512 bf16, fp32: exactly what bitsandbytes computes there, dequantizing every layer on
    every call. On a CPU with it (``bf16_kernel``, read off the CPU when None), bf16: bitsandbytes' fused kernel
    rounds its inputs to bf16 too, and dense bf16 layers run on the CPU's bf16 units (AMX where there is one). On
    a GPU, None.
    """
    if device != "cpu":
        return None
    fused = has_avx512bf16() if bf16_kernel is None else bf16_kernel  # type: ignore[no-untyped-call]
    return torch.bfloat16 if fused else torch.float32
