"""Training examples: the worker's own prompt, the loss on the answer only, batches of similar length."""

import itertools
import json
from pathlib import Path

import pytest
import torch
from bitsandbytes.functional import has_avx512bf16
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM, AutoTokenizer

from slmq.cli.finetune import _init_adapter
from slmq.errors import ConfigError
from slmq.fleet import ModelSpec
from slmq.training.recipe import FinetuneConfig, TrainingReport
from slmq.training.trainer import (
    IGNORE,
    Example,
    answer_loss,
    answer_text,
    batches,
    collate,
    encode,
    learning_rate,
    save_adapter,
    served_base,
)
from tests.conftest import REPO
from workers.model.runner import ModelRunner
from workers.model.tasktypes import TASK_TYPES

GOLD = {
    "consignee": "Brauerei Maier GmbH",
    "address": {"street": "Hauptstraße 5", "city": "München", "region": None, "postcode": "80331", "country": None},
    "items": [{"quantity": 2.5, "unit": "Fässer", "description": "Weißbier"}],
    "delivery_date": None,
    "contact_name": None,
    "contact_phone": None,
    "reference": None,
    "instructions": None,
}


def test_the_answer_is_the_record_as_compact_json_in_schema_order_with_text_kept_as_written() -> None:
    answer = answer_text("delivery_note", {**GOLD, "instructions": None})
    assert answer.startswith('{"consignee":"Brauerei Maier GmbH","address":{"street":"Hauptstraße 5"')
    assert json.loads(answer) == GOLD


def test_only_the_answer_and_the_end_of_turn_carry_the_loss(tiny_model_dir: Path) -> None:
    # Given the tiny model's tokenizer and the delivery-note task's own prompt
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    example = encode(TASK_TYPES["delivery_note"], tokenizer, {"text": "2,5 Fässer Weißbier", "gold": GOLD})
    # When the labelled tokens are decoded, then they are exactly the answer and the end of the turn
    labelled = [token for token in example.labels if token != IGNORE]
    assert tokenizer.decode(labelled) == answer_text("delivery_note", GOLD) + "<|im_end|>"
    # And the masked tokens are the prompt the worker sends, ending where the assistant's turn begins
    prompt = example.input_ids[: len(example.input_ids) - len(labelled)]
    assert tokenizer.decode(prompt).endswith("2,5 Fässer Weißbier<|im_end|>\n<|im_start|>assistant\n")
    assert example.labels[: len(prompt)] == [IGNORE] * len(prompt)


def test_batches_are_full_shuffled_and_grouped_by_length() -> None:
    examples = [Example([1] * length, [1] * length) for length in range(1, 257)]
    config = FinetuneConfig(task_type="delivery_note", batch_size=8, seed=3)
    stream = batches(examples, config)
    drawn = [next(stream) for _ in range(32)]  # one pass over the 256 examples
    assert all(len(batch) == 8 for batch in drawn)
    assert sorted(len(e.input_ids) for batch in drawn for e in batch) == list(range(1, 257))
    # each batch comes from one pool of 128 sorted examples, so its lengths span less than a pool
    assert max(max(len(e.input_ids) for e in b) - min(len(e.input_ids) for e in b) for b in drawn) < 128
    assert [len(b[0].input_ids) for b in drawn] != sorted(len(b[0].input_ids) for b in drawn)


def test_the_learning_rate_warms_up_then_decays_to_a_tenth() -> None:
    config = FinetuneConfig(task_type="delivery_note", steps=100, warmup_steps=10, learning_rate=1e-3)
    rates = [learning_rate(step, config) for step in range(100)]
    assert rates[0] == 1e-4 and rates[9] == 1e-3
    assert all(a >= b for a, b in itertools.pairwise(rates[9:]))
    assert abs(learning_rate(100, config) - 1e-4) < 1e-12


def test_the_answer_loss_from_trimmed_logits_equals_the_full_causal_lm_loss(tiny_model_dir: Path) -> None:
    # Given a left-padded batch of two examples of different lengths
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    task = TASK_TYPES["delivery_note"]
    examples = [
        encode(task, tokenizer, {"text": "2,5 Fässer Weißbier", "gold": GOLD}),
        encode(task, tokenizer, {"text": "Deliver to Acme Ltd", "gold": {**GOLD, "items": []}}),
    ]
    batch = collate(examples, tokenizer.pad_token_id, "cpu")
    # When the loss is computed on the answers' logits only, then it is the model's own loss on the whole batch
    with torch.no_grad():
        trimmed = answer_loss(model, batch)
        full = model(**batch).loss
    assert abs(float(trimmed) - float(full)) < 1e-4


def _logits(model: torch.nn.Module, tiny_model_dir: Path) -> torch.Tensor:
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    inputs = tokenizer("Deliver 12 pallets of A4 paper to Acme Ltd, call Jim on 07700 900123", return_tensors="pt")
    with torch.no_grad():
        return model(**inputs).logits


def _nf4_runner(tiny_model_dir: Path, adapter: Path | None = None) -> ModelRunner:
    spec = ModelSpec(name="tiny", source=f"path:{tiny_model_dir}", quantization="nf4")
    return ModelRunner.load(spec, tiny_model_dir, "cpu", adapter)


def test_training_over_nf4_runs_through_exactly_the_weights_an_nf4_worker_serves(tiny_model_dir: Path) -> None:
    # Given the base as an nf4 worker loads it and as training loads it for nf4
    served = _nf4_runner(tiny_model_dir).model
    trained_over = served_base(tiny_model_dir, "nf4", "cpu")
    # Then training sees frozen fp32 Linear layers that PEFT and autograd handle like any other
    assert isinstance(trained_over.model.layers[0].mlp.up_proj, torch.nn.Linear)
    assert not trained_over.is_loaded_in_4bit
    # And they compute exactly what the served nf4 layers compute on this CPU, not what the unrounded weights do
    assert torch.equal(_logits(trained_over, tiny_model_dir), _logits(served, tiny_model_dir))
    unrounded = served_base(tiny_model_dir, "none", "cpu")
    assert not torch.allclose(_logits(unrounded, tiny_model_dir), _logits(served, tiny_model_dir), atol=1e-2)


def test_an_nf4_layer_trains_through_the_served_kernel_with_the_fp32_weights_gradient(tiny_model_dir: Path) -> None:
    # Given one served nf4 layer of the tiny model and its training twin
    served = _nf4_runner(tiny_model_dir).model.model.layers[0].mlp.up_proj
    twin = served_base(tiny_model_dir, "nf4", "cpu").model.layers[0].mlp.up_proj.train()
    x = torch.randn(3, 5, twin.in_features, requires_grad=True)
    # When an input that needs a gradient goes through the twin in training mode
    out = twin(x)
    out.sum().backward()
    # Then its output is the served layer's, whichever kernel this CPU serves with (bf16 on AVX-512 bf16 CPUs)
    with torch.no_grad():
        assert torch.equal(out.detach(), served(x.detach()))
        # which is the dequantized fp32 matmul exactly where the CPU has no bf16 kernel, and differs where it has one
        dense = torch.nn.functional.linear(x.detach(), twin.weight, twin.bias)
        assert torch.equal(out.detach(), dense) == (not has_avx512bf16())
    # And the input's gradient is that of the dequantized fp32 matmul
    assert x.grad is not None
    assert torch.allclose(x.grad, torch.ones(3, 5, twin.out_features) @ twin.weight, atol=1e-5)
    assert not twin.weight.requires_grad


def test_an_adapter_trained_over_the_nf4_weights_serves_the_same_outputs_over_nf4(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    # Given a LoRA adapter over the dequantized nf4 base, with weights far from their zero start
    torch.manual_seed(1)
    lora = LoraConfig(r=4, lora_alpha=8, target_modules="all-linear", task_type="CAUSAL_LM")
    trained = get_peft_model(served_base(tiny_model_dir, "nf4", "cpu"), lora)
    with torch.no_grad():
        for name, parameter in trained.named_parameters():
            if "lora_B" in name:
                parameter.copy_(torch.randn_like(parameter))
            if "lora_" in name:
                parameter.copy_(parameter.to(torch.bfloat16).float())  # as the bf16 save will keep it
    config = FinetuneConfig(task_type="delivery_note", rank=4, alpha=8, quantization="nf4")
    save_adapter(trained, tmp_path, config, TrainingReport(losses=[1.0]), {})
    # When an nf4 worker loads the base with that adapter, then it computes what training computed
    served = _nf4_runner(tiny_model_dir, tmp_path).model
    expected = _logits(trained.eval(), tiny_model_dir)
    assert torch.allclose(_logits(served, tiny_model_dir), expected, atol=1e-4)
    assert not torch.allclose(_logits(_nf4_runner(tiny_model_dir).model, tiny_model_dir), expected, atol=1e-2)


def test_training_over_int8_weights_is_refused_with_the_choices(tiny_model_dir: Path) -> None:
    with pytest.raises(ConfigError, match="Training over int8 weights is not supported; use --quantization nf4"):
        served_base(tiny_model_dir, "int8", "cpu")


def test_going_on_from_a_directory_without_an_adapter_names_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=f"No adapter in {tmp_path} \\(adapter_model.safetensors and adapter_config"):
        _init_adapter(tmp_path)


def test_finetune_refuses_a_task_its_fleet_answers_with_a_span_tagger_and_says_where_generation_is(
    tmp_path: Path,
) -> None:
    import os
    import subprocess
    import sys

    # Given the shipped fleet, whose delivery_note model answers by span tagging
    env = {**os.environ, "SLMQ_FLEET": str(REPO / "fleet.toml"), "SLMQ_HOME": str(tmp_path / "home")}
    slmq = Path(sys.executable).with_name("slmq")
    # When slmq finetune is asked for a delivery_note adapter over it
    done = subprocess.run(
        [str(slmq), "finetune", "delivery_note", "-o", str(tmp_path / "out")],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    # Then it says in one line that this model tags, and where the generation fleet is, and trains nothing
    assert "Traceback" not in done.stderr and done.returncode != 0
    assert "answers delivery_note with the span tagger" in done.stderr
    assert "SLMQ_FLEET=examples/fleet-generation.toml" in done.stderr
    assert not (tmp_path / "out").exists()
