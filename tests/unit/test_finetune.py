"""Training examples: the worker's own prompt, the loss on the answer only, batches of similar length."""

import itertools
import json
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from workers.finetune import (
    IGNORE,
    Example,
    FinetuneConfig,
    answer_loss,
    answer_text,
    batches,
    collate,
    encode,
    learning_rate,
)
from workers.tasktypes import TASK_TYPES

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
