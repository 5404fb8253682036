"""The model runner on a tiny random Llama, quantized nf4 and int8 on the CPU and unquantized."""

from pathlib import Path

import pytest
import torch

from slmq.errors import InvalidPayloadError
from slmq.fleet import ModelSpec
from workers.model.runner import Generation, ModelRunner, weights_dtype

CONVERSATIONS = [
    [{"role": "user", "content": "hello there"}],
    [{"role": "user", "content": "Deliver 12 pallets of A4 paper to Acme Ltd before Friday 10am please"}],
]


def load(model_dir: Path, quantization: str, context_limit: int = 512) -> ModelRunner:
    spec = ModelSpec(name="tiny", source=f"path:{model_dir}", quantization=quantization, context_limit=context_limit)  # type: ignore[arg-type]
    return ModelRunner.load(spec, model_dir, "cpu")


@pytest.fixture(scope="module", params=["nf4", "int8", "none"])
def runner(request: pytest.FixtureRequest, tiny_model_dir: Path) -> ModelRunner:
    return load(tiny_model_dir, request.param)


def test_weights_are_quantized_as_the_spec_says(runner: ModelRunner) -> None:
    layer = type(runner.model.model.layers[0].mlp.up_proj).__name__
    assert layer == {"nf4": "Linear4bit", "int8": "Linear8bitLt", "none": "Linear"}[runner.spec.quantization]


@pytest.mark.parametrize(
    ("dtype", "device", "bf16_cpu", "expected"),
    [
        (None, "cpu", True, torch.float32), (None, "cuda:0", False, torch.bfloat16),
        ("auto", "cpu", True, torch.bfloat16), ("auto", "cpu", False, torch.float32),
        ("auto", "cuda:0", False, torch.bfloat16), ("float32", "cuda:0", True, torch.float32),
        ("bfloat16", "cpu", False, torch.bfloat16),
    ],
)  # fmt: skip
def test_unquantized_weights_load_in_the_dtype_the_spec_and_the_device_choose(
    tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch, dtype: str | None, device: str, bf16_cpu: bool,
    expected: torch.dtype,
) -> None:  # fmt: skip
    monkeypatch.setattr("workers.model.runner.cpu_has_bf16", lambda: bf16_cpu)
    spec = ModelSpec(name="tiny", source=f"path:{tiny_model_dir}", quantization="none", dtype=dtype)  # type: ignore[arg-type]
    assert weights_dtype(spec, device) == expected
    if device == "cpu":
        assert ModelRunner.load(spec, tiny_model_dir, device).model.dtype == expected


def test_a_batch_gives_one_generation_per_prompt_within_the_budget(runner: ModelRunner) -> None:
    generations = runner.generate(CONVERSATIONS, max_new_tokens=12)
    assert len(generations) == 2
    for generation in generations:
        assert isinstance(generation, Generation)
        assert 0 < generation.new_tokens <= 12
        assert generation.truncated == (generation.new_tokens == 12)


def test_an_over_long_prompt_fails_alone_and_the_rest_are_answered(tiny_model_dir: Path) -> None:
    runner = load(tiny_model_dir, "none", context_limit=64)
    long_note = [{"role": "user", "content": "pallets " * 80}]
    short, too_long = runner.generate([CONVERSATIONS[0], long_note], max_new_tokens=8)
    assert isinstance(short, Generation)
    assert isinstance(too_long, InvalidPayloadError)
    assert "context_limit of 64" in str(too_long)


def test_choice_scores_are_probabilities_and_do_not_depend_on_the_batch(runner: ModelRunner) -> None:
    labels = ("positive", "negative", "neutral")
    together = runner.choose(CONVERSATIONS, labels)
    alone = [runner.choose([conversation], labels)[0] for conversation in CONVERSATIONS]
    for batched, single in zip(together, alone, strict=True):
        assert isinstance(batched, dict) and isinstance(single, dict)
        assert sum(batched.values()) == pytest.approx(1.0, abs=1e-4)
        for label in labels:
            assert batched[label] == pytest.approx(single[label], abs=2e-2)
