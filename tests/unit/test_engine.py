"""The native engine against transformers' generate() on a tiny random Llama: the same tokens, every way in.

Both runners share one model; only the decode loop differs. A random model is a hard case for equivalence:
its logits have no confident favourite, so a wrong mask, position or cache entry changes the argmax.
"""

from pathlib import Path
from typing import Any

import pytest
import torch
from bitsandbytes.functional import dequantize_4bit
from bitsandbytes.nn.modules import Linear4bit
from pydantic import ValidationError

from slmq.errors import SlmqError
from slmq.fleet import ModelSpec
from slmq.schemas import DeliveryNote, DeliveryNoteRequest
from workers.model.engine import engine as engine_module
from workers.model.engine.attention import MATMUL_WIDTH, Packing, engine_attention
from workers.model.engine.cache import SlotCache
from workers.model.engine.engine import NgramIndex, lookup
from workers.model.engine.prefixes import MIN_SHARED, PrefixStore
from workers.model.grammar import generation_schema
from workers.model.nf4 import dense_dtype, to_dense_layers, to_served_layers
from workers.model.runner import Generation, ModelRunner
from workers.model.tasktypes import Answered, Outcome
from workers.model.tasktypes.delivery_note import DeliveryNoteTask

NOTES = [
    "12 pallets of paper to Acme Ltd",
    "Deliver 3 boxes of bolts and 2 drums of oil to Jim at Harbour Works, 14 Harbour Rd, Leith EH6 6QQ before "
    "Friday 10am. Call 07700 900123 on arrival. PO 7731-22.",
    "hi",
    "Ship to: Fabrik GmbH, Hauptstr. 5, 80331 München. 1,500 kg Mehl. Call 0171 2233.",
    "Attn Maria Lopez, Calle Mayor 12, 28013 Madrid; 20 pallets tiles; ref PO-7781",
]
BUDGET = 96


def runners(model_dir: Path, quantization: str = "none", slots: int = 2) -> tuple[ModelRunner, ModelRunner]:
    """A transformers runner and a native one over the same model; fewer slots than notes, so rows join mid-way."""
    spec = ModelSpec(
        name="tiny", source=f"path:{model_dir}", quantization=quantization, context_limit=1024, max_batch=slots
    )  # type: ignore[arg-type]
    reference = ModelRunner.load(spec, model_dir, "cpu")
    native = ModelRunner(spec.model_copy(update={"engine": "native"}), reference.model, reference.tokenizer, "cpu")
    return reference, native


@pytest.fixture(scope="module")
def pair(tiny_model_dir: Path) -> tuple[ModelRunner, ModelRunner]:
    return runners(tiny_model_dir)


def requests() -> list[DeliveryNoteRequest]:
    return [DeliveryNoteRequest(text=text) for text in NOTES]


@pytest.mark.parametrize("mode", ["free", "grammar", "copy"])
def test_both_engines_write_the_same_tokens_for_prompts_of_mixed_lengths(
    pair: tuple[ModelRunner, ModelRunner], mode: str
) -> None:
    reference, native = pair
    task = DeliveryNoteTask()
    conversations = [task.messages(request) for request in requests()]
    copy_from = [task.copy_source(request) for request in requests()] if mode == "copy" else None

    def constraint(runner: ModelRunner) -> Any:
        return None if mode == "free" else runner.json_constraint(task.output_schema(), copy_from)

    # Given five notes of different lengths, and a native engine with two rows: the others join as rows finish
    assert native.engine is not None
    before = dict(vars(native.engine.counters))
    # When both engines write them, each with fresh constraint state
    expected = reference.generate(conversations, BUDGET, constraint(reference))
    written = native.generate(conversations, BUDGET, constraint(native))
    # Then they wrote the same tokens, cut off or ended alike
    assert written == expected
    assert all(isinstance(generation, Generation) for generation in written)
    # And the same log-probability of every token (as far as the float sums of a padded batch agree)
    for mine, theirs in zip(written, expected, strict=True):
        assert isinstance(mine, Generation) and isinstance(theirs, Generation)
        assert len(mine.logprobs) == len(mine.pieces) == mine.new_tokens
        assert mine.logprobs == pytest.approx(theirs.logprobs, abs=1e-3)
        assert all(lp <= 1e-6 for lp in mine.logprobs)
    counters = vars(native.engine.counters)
    # And the engine took the shared instructions from a stored prefix, and kept some guesses where there are any
    assert counters["prefix_tokens"] > before["prefix_tokens"]
    if mode != "free":
        assert counters["kept"] > before["kept"]


def test_the_head_applied_to_the_whole_vocabulary_writes_what_the_allowed_tokens_alone_write(
    tiny_model_dir: Path, pair: tuple[ModelRunner, ModelRunner], monkeypatch: pytest.MonkeyPatch
) -> None:
    reference, sparse = pair
    # Given a native engine that leaves the output layer to the model (as for heads with a softcap, or on a GPU)
    monkeypatch.setattr(engine_module, "PLAIN_HEADS", frozenset())
    whole = ModelRunner(
        reference.spec.model_copy(update={"engine": "native"}), reference.model, reference.tokenizer, "cpu"
    )
    assert whole.engine is not None and sparse.engine is not None
    assert whole.engine._head is None and sparse.engine._head is not None
    task = DeliveryNoteTask()
    conversations = [task.messages(request) for request in requests()]
    copy_from = [task.copy_source(request) for request in requests()]
    # When both write the notes under the grammar and the copy constraint
    written = {
        name: runner.generate(conversations, BUDGET, runner.json_constraint(task.output_schema(), copy_from))
        for name, runner in (("whole", whole), ("sparse", sparse))
    }
    # Then they wrote the same tokens with the same log-probabilities under the constraint
    assert written["whole"] == written["sparse"]
    for mine, theirs in zip(written["whole"], written["sparse"], strict=True):
        assert isinstance(mine, Generation) and isinstance(theirs, Generation)
        assert mine.logprobs == pytest.approx(theirs.logprobs, abs=1e-4)
        # and only the whole vocabulary's logits give the unmasked ones
        assert len(mine.raw_logprobs) == mine.new_tokens and not theirs.raw_logprobs


class ShortNoteTask(DeliveryNoteTask):
    """delivery_note with strings of at most 6 characters and at most 2 items, so budgets cut records off."""

    def output_schema(self) -> dict[str, Any]:
        return generation_schema(DeliveryNote, max_string=6, max_items=2)


def outcome(answer: Outcome) -> Any:
    return (
        (answer.result.model_dump(), answer.retries)
        if isinstance(answer, Answered)
        else (type(answer).__name__, str(answer))
    )


def test_re_asks_and_larger_budget_retries_give_the_same_outcomes_on_both_engines(
    pair: tuple[ModelRunner, ModelRunner],
) -> None:
    reference, native = pair
    task = ShortNoteTask()
    # Given a budget too small for most records: they are cut off, retried with twice the budget, or re-asked
    budget = 48
    # When the task runs the notes with two further attempts on each engine
    expected = task.run(reference, requests(), budget, reasks=2)
    got = task.run(native, requests(), budget, reasks=2)
    # Then every outcome, result or typed error, is the same
    assert [outcome(o) for o in got] == [outcome(o) for o in expected]
    # And every record's per-field confidence, from the attempt that gave it
    pairs = zip(got, expected, strict=True)
    records = [(a.result, b.result) for a, b in pairs if isinstance(a, Answered) and isinstance(b, Answered)]
    assert records, "some note should give a record"
    for mine_note, their_note in records:
        assert mine_note.confidence is not None and their_note.confidence is not None
        ours, reference_values = mine_note.confidence.model_dump(), their_note.confidence.model_dump()
        assert ours.pop("items") == pytest.approx(reference_values.pop("items"), abs=1e-3)
        assert ours == pytest.approx(reference_values, abs=1e-3)
    # And the notes were a mix: records that needed further attempts, and notes that failed after them
    assert any(isinstance(o, Answered) and o.retries for o in expected), "some record should need a retry"
    assert any(not isinstance(o, Answered) for o in expected), "some note should fail after its attempts"


def joining(runner: ModelRunner, waiting: list[DeliveryNoteRequest]) -> tuple[Any, list[tuple[int, int]]]:
    """A ``join`` that hands ``waiting`` over one at a time, and the (room, rows still writing) it was asked with."""
    asked: list[tuple[int, int]] = []

    def join(room: int) -> list[DeliveryNoteRequest]:
        assert runner.engine is not None
        asked.append((room, len(runner.engine.active)))
        taken, waiting[:] = waiting[:1], waiting[1:]
        return taken

    return join, asked


def test_requests_that_join_a_running_batch_get_the_outcomes_they_get_in_it_from_the_start(
    pair: tuple[ModelRunner, ModelRunner],
) -> None:
    reference, native = pair
    task = ShortNoteTask()
    budget = 48
    # Given each note's outcome when all five run in one batch: records and records cut off
    expected = task.run(reference, requests(), budget, reasks=0)
    # When two start on the native engine's two rows and the other three join one at a time as rows free up
    waiting = requests()[2:]
    join, asked = joining(native, waiting)
    heard: list[int] = []
    got = task.run(native, requests()[:2], budget, reasks=0, join=join, on_answer=lambda i, _: heard.append(i))
    # Then every note, joined or not, has the outcome it has in the batch
    assert [outcome(o) for o in got] == [outcome(o) for o in expected]
    assert sorted(heard) == [i for i, o in enumerate(got) if isinstance(o, Answered)]
    # And the engine asked only while it had free rows, and some note joined while another row was still writing
    assert not waiting and all(room > 0 for room, _ in asked)
    assert any(running for _, running in asked)


def test_once_an_output_is_to_be_tried_again_the_batch_takes_no_more_and_its_retries_are_as_in_any_batch(
    pair: tuple[ModelRunner, ModelRunner],
) -> None:
    reference, native = pair
    task = ShortNoteTask()
    budget = 48
    # Given a budget that cuts most records off, and two further attempts: retried with larger budgets, re-asked
    expected = task.run(reference, requests(), budget, reasks=2)
    assert any(isinstance(o, Answered) and o.retries for o in expected), "some record should need a retry"
    # When two start and three more wait to join
    waiting = requests()[2:]
    join, _ = joining(native, waiting)
    got = task.run(native, requests()[:2], budget, reasks=2, join=join)
    # Then the batch took none once the first cut-off output was to be retried, so the retry did not wait for them
    assert len(got) < len(expected) and waiting == requests()[len(got) :]
    # And those it ran have the outcomes they have in a batch of all five, retries included
    assert [outcome(o) for o in got] == [outcome(o) for o in expected[: len(got)]]


class Forwards:
    """A generation hook that records how many forwards the native engine had run as each generate() call ended."""

    def __init__(self, runner: ModelRunner) -> None:
        self.counters = runner.engine.counters if runner.engine is not None else None
        self.at_end: list[int] = []

    def now(self) -> int:
        return self.counters.forwards if self.counters is not None else 0

    def time_budget(self) -> float | None:
        return None

    def generated(self, generations: list[Generation | SlmqError], seconds: float) -> None:
        self.at_end.append(self.now())


@pytest.mark.parametrize("engine", ["transformers", "native"])
def test_each_valid_result_is_answered_once_as_its_row_finishes_and_re_asked_ones_after_their_attempt(
    pair: tuple[ModelRunner, ModelRunner], engine: str
) -> None:
    runner = pair[engine == "native"]
    forwards = Forwards(runner)
    heard: list[tuple[int, Answered[Any], int]] = []  # (index, answer, forwards run when it was heard)
    # Given a budget that cuts every record off: some give one with twice the budget, the others with four times
    runner.hooks[:] = [forwards]
    try:
        outcomes = ShortNoteTask().run(
            runner, requests(), BUDGET, reasks=2, on_answer=lambda i, answer: heard.append((i, answer, forwards.now()))
        )
    finally:
        runner.hooks.clear()
    # Then each valid result was heard once, as it is returned, and no error was
    assert sorted((index, outcome(answer)) for index, answer, _ in heard) == [
        (index, outcome(answer)) for index, answer in enumerate(outcomes) if isinstance(answer, Answered)
    ]
    # in the order of the attempts that gave them
    assert [answer.retries for _, answer, _ in heard] == sorted(answer.retries for _, answer, _ in heard)
    assert {answer.retries for _, answer, _ in heard} == {1, 2}, "some records after one retry, some after two"
    if engine == "native":  # two rows at once: some result was heard before its call's last forward
        assert any(at < forwards.at_end[answer.retries] for _, answer, at in heard)


def test_quantized_layers_serve_through_the_engine(tiny_model_dir: Path) -> None:
    # Given the tiny model quantized nf4 by bitsandbytes
    reference, native = runners(tiny_model_dir, "nf4", slots=4)
    task = DeliveryNoteTask()
    conversations = [task.messages(request) for request in requests()]
    constraint = reference.json_constraint(task.output_schema())
    # Then the engine's forward through Linear4bit layers writes what generate() writes
    assert native.generate(conversations, 48, constraint) == reference.generate(conversations, 48, constraint)


@pytest.mark.parametrize("dequantize", [to_dense_layers, to_served_layers], ids=["serving", "training"])
def test_dequantized_layers_hold_exactly_the_nf4_weights(tiny_model_dir: Path, dequantize: Any) -> None:
    reference, _ = runners(tiny_model_dir, "nf4")
    quantized = reference.model.model.layers[0].mlp.up_proj
    assert isinstance(quantized, Linear4bit)
    expected = dequantize_4bit(quantized.weight.data, quantized.weight.quant_state).float()
    # When the model's nf4 layers are dequantized, for serving (plain Linear) or training (ServedLinear)
    dequantize(reference.model)
    # Then none is left, and each plain Linear holds the values the nf4 layer computed with
    layers = [m for m in reference.model.modules() if isinstance(m, Linear4bit)]
    assert layers == []
    dense = reference.model.model.layers[0].mlp.up_proj
    assert isinstance(dense, torch.nn.Linear) and torch.equal(dense.weight, expected)


def test_nf4_is_served_dense_in_what_bitsandbytes_computes_in_on_the_cpu_and_stays_nf4_on_a_gpu() -> None:
    assert dense_dtype("cpu", bf16_kernel=False) == torch.float32  # it dequantizes to fp32 on every call
    assert dense_dtype("cpu", bf16_kernel=True) == torch.bfloat16  # its fused kernel rounds inputs to bf16
    assert dense_dtype("cuda:0") is None


def test_dequantized_bf16_weights_serve_through_the_engine(tiny_model_dir: Path) -> None:
    # Given the tiny model's nf4 weights dequantized and served in bf16, as on a CPU with AVX-512 bf16
    reference, _ = runners(tiny_model_dir, "nf4")
    to_dense_layers(reference.model)
    model = reference.model.to(torch.bfloat16)
    spec = reference.spec.model_copy(update={"engine": "native", "max_batch": 2})
    native = ModelRunner(spec, model, reference.tokenizer, "cpu")
    task = DeliveryNoteTask()
    conversations = [task.messages(request) for request in requests()]
    # When the engine writes the notes under the grammar (two rows, so rows join mid-way)
    written = native.generate(conversations, 32, native.json_constraint(task.output_schema()))
    # Then every row was written in bf16, with a probability for every token
    assert native.engine is not None and native.engine.cache.dtype == torch.bfloat16
    for generation in written:
        assert isinstance(generation, Generation) and generation.new_tokens > 0
        assert len(generation.logprobs) == generation.new_tokens and all(lp <= 1e-6 for lp in generation.logprobs)


@pytest.mark.parametrize(("dtype", "expected"), [("float32", torch.float32), ("bfloat16", torch.bfloat16)])
def test_the_fleet_picks_the_dtype_nf4_weights_are_served_dense_in(
    tiny_model_dir: Path, dtype: str, expected: torch.dtype
) -> None:
    # Whatever this CPU would pick (bf16 with AVX-512 bf16, else fp32), the fleet's dtype wins
    spec = ModelSpec(name="tiny", source=f"path:{tiny_model_dir}", quantization="nf4", dequantize=True, dtype=dtype)  # type: ignore[arg-type]
    runner = ModelRunner.load(spec, tiny_model_dir, "cpu")
    assert runner.dequantized and runner.model.dtype == expected
    assert not [m for m in runner.model.modules() if isinstance(m, Linear4bit)]


def test_dequantize_is_refused_for_weights_that_are_not_nf4(tiny_model_dir: Path) -> None:
    with pytest.raises(ValidationError, match="dequantize = true serves nf4 weights"):
        ModelSpec(name="tiny", source=f"path:{tiny_model_dir}", quantization="none", dequantize=True)


def test_a_cache_row_moved_into_a_freed_one_keeps_its_keys_and_the_mask_sees_only_its_own_past() -> None:
    cache = SlotCache(slots=3, layers=2, kv_heads=1, head_dim=2, dtype=torch.float32, device="cpu")
    cache.reserve(8)
    for layer in range(2):
        cache.keys[layer][2, 0, :4] = torch.arange(8.0).view(4, 2) + layer
    cache.move(source=2, target=0, length=4)
    assert torch.equal(cache.keys[1][0, 0, :4], torch.arange(8.0).view(4, 2) + 1)
    # Row 0 fed at positions 3..4 and row 1 at position 1, packed: each query sees keys up to itself
    cache.prepare(0, rows=torch.tensor([0, 0, 1]), positions=torch.tensor([3, 4, 1]))
    mask = cache.visible(torch.tensor([[3, 4], [1, 2]]))
    assert mask.shape == (2, 1, 2, 5)
    assert mask[0, 0, 0].tolist() == [True, True, True, True, False]
    assert mask[1, 0, 0].tolist() == [True, True, False, False, False]
    # and each packed token's keys land in its own row, at its own position
    new = torch.tensor([[10.0, 11.0], [12.0, 13.0], [14.0, 15.0]]).view(1, 1, 3, 2)
    keys, _ = cache.update(new, new, layer_idx=0)
    assert keys.shape == (2, 1, 5, 2)
    assert keys[0, 0, 3:5].tolist() == [[10.0, 11.0], [12.0, 13.0]]
    assert keys[1, 0, 1].tolist() == [14.0, 15.0]
    assert keys[0, 0, 2].tolist() == [4.0, 5.0]  # what the moved row held stays


@pytest.mark.parametrize("width", [3, MATMUL_WIDTH + 2])  # attended by matmul, and by SDPA
def test_packed_attention_is_each_row_s_own_attention(width: int) -> None:
    torch.manual_seed(0)
    heads, kv_heads, dim, keys = 4, 2, 8, 40
    lengths, starts = [width, 1, 2], [30, 5, 0]
    key, value = torch.randn(3, kv_heads, keys, dim), torch.randn(3, kv_heads, keys, dim)
    queries = [torch.randn(heads, n, dim) for n in lengths]
    rows = torch.repeat_interleave(torch.arange(3), torch.tensor(lengths))
    slots = torch.cat([torch.arange(n) for n in lengths])
    positions = torch.tensor(starts).unsqueeze(1) + torch.arange(width)
    visible = torch.arange(keys).view(1, 1, 1, -1) <= positions.unsqueeze(1).unsqueeze(-1)
    module = torch.nn.Module()
    output, _ = engine_attention(
        module, torch.cat(queries, 1).unsqueeze(0), key, value, None, slmq_packing=Packing(rows, slots, visible)
    )
    assert output.shape == (1, sum(lengths), heads, dim)
    for row, (query, start) in enumerate(zip(queries, starts, strict=True)):
        n = query.shape[1]
        expected = torch.nn.functional.scaled_dot_product_attention(
            query.unsqueeze(0),
            key[row : row + 1, :, : start + n].repeat_interleave(heads // kv_heads, 1),
            value[row : row + 1, :, : start + n].repeat_interleave(heads // kv_heads, 1),
            is_causal=False,
            attn_mask=visible[row : row + 1, :, :n, : start + n],
        )[0].transpose(0, 1)
        assert torch.allclose(output[0, rows == row], expected, atol=1e-5)


def test_a_model_whose_attention_cannot_be_swapped_is_refused_with_the_engine_to_use_instead(
    tiny_model_dir: Path,
) -> None:
    spec = ModelSpec(name="tiny", source=f"path:{tiny_model_dir}", quantization="none", engine="transformers")  # type: ignore[arg-type]
    reference = ModelRunner.load(spec, tiny_model_dir, "cpu")
    # What transformers does for a model without AttentionInterface support: it warns and keeps its attention
    reference.model._can_set_attn_implementation = lambda: False
    with pytest.raises(SlmqError, match='engine = "transformers"'):
        ModelRunner(spec.model_copy(update={"engine": "native"}), reference.model, reference.tokenizer, "cpu")


def test_a_stored_prefix_serves_every_prompt_as_far_as_they_agree() -> None:
    store = PrefixStore()
    shared = list(range(100, 100 + MIN_SHARED + 4))
    first, second, third = [*shared, 1, 2], [*shared, 3], [*shared[:-2], 9, 9]
    # The first prompt has nothing to share with; the second shares all of the instructions with it
    assert store.candidate(first) == 0
    assert store.candidate(second) == len(shared)
    keys = [torch.zeros(1, len(shared), 2)]
    store.add(second[: len(shared)], keys, keys)
    # A third prompt that leaves the prefix early still takes what it shares; a prompt never takes its last token
    assert store.match(third)[0] == len(shared) - 2
    assert store.match(shared)[0] == len(shared) - 1
    assert store.match([1, 2, 3])[1] is None


def test_prompt_lookup_guesses_what_followed_the_output_s_last_tokens_in_the_prompt() -> None:
    assert lookup([5, 6, 7, 8, 9], [1, 6, 7], 2) == [8, 9]
    assert lookup([5, 6, 7, 8, 9], [7, 6], 2) == []
    assert lookup([5, 6, 7], [6], 2) == []


def test_recent_outputs_guess_what_last_followed_the_same_two_tokens_until_they_are_dropped() -> None:
    recent = NgramIndex(2)
    recent.add([1, 2, 3, 4, 5])
    assert recent.lookup([9, 2, 3], 2) == [4, 5]
    recent.add([7, 2, 3, 8])  # the later occurrence wins
    assert recent.lookup([2, 3], 5) == [8]
    assert recent.lookup([3], 2) == []
    recent.add([6, 6])  # the first output is dropped: its tails guess nothing more
    assert recent.lookup([3, 4], 1) == []
    assert recent.lookup([2, 3], 1) == [8]
    recent.add([0, 0, 0])  # and so is the second, though its index was rebuilt after it
    assert recent.lookup([2, 3], 1) == []
    assert recent.lookup([0, 0], 1) == [0]


def test_a_lone_row_guesses_further_and_still_writes_what_greedy_writes(pair: tuple[ModelRunner, ModelRunner]) -> None:
    reference, native = pair
    assert native.engine is not None
    task, request = DeliveryNoteTask(), requests()[1]
    conversation = [task.messages(request)]

    def write(runner: ModelRunner) -> list[Generation | SlmqError]:
        return runner.generate(conversation, BUDGET, runner.json_constraint(task.output_schema(), [request.text]))

    def forwards_and_tokens(speculation: int) -> tuple[int, list[Generation | SlmqError]]:
        assert native.engine is not None
        native.engine.speculation = speculation
        before = native.engine.counters.forwards
        written = write(native)
        return native.engine.counters.forwards - before, written

    # Given one note written without spare guesses, then again with them: its own tokens are among the recent outputs
    try:
        plain_forwards, plain = forwards_and_tokens(0)
        guessed_forwards, guessed = forwards_and_tokens(engine_module.SPECULATION)
    finally:
        native.engine.speculation = engine_module.SPECULATION
    # Then both wrote what generate() writes, and the guesses saved forwards
    assert guessed == plain == write(reference)
    assert guessed_forwards < plain_forwards


def test_a_call_that_fails_mid_way_leaves_nothing_behind_for_the_next(pair: tuple[ModelRunner, ModelRunner]) -> None:
    _, native = pair
    assert native.engine is not None
    prompts = [[1, 2, 3, 4], [5, 6, 7]]
    before = [sequence.output for sequence in native.engine.generate(prompts, 8)]

    class Refusing:
        """A row constraint whose grammar refuses its second token."""

        finished = False

        def __init__(self) -> None:
            self.accepted = 0

        def mask(self, scores: torch.Tensor) -> None:
            return None

        def allowed(self) -> torch.Tensor:
            return torch.arange(native.model.config.vocab_size)

        def allows(self, tokens: torch.Tensor) -> torch.Tensor:
            return torch.ones_like(tokens, dtype=torch.bool)

        def accept(self, token: int) -> None:
            self.accepted += 1
            if self.accepted == 2:
                raise RuntimeError("refused")

        def draft(self, copied: int) -> list[int]:
            return []

    with pytest.raises(RuntimeError, match="refused"):
        native.engine.generate(prompts, 8, [Refusing(), Refusing()])
    assert not native.engine.active and not native.engine.waiting
    # And the next call is answered as if the failed one never ran
    assert [sequence.output for sequence in native.engine.generate(prompts, 8)] == before


class Budget:
    """A generation hook with a fixed time budget that records what each call answered."""

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self.calls: list[tuple[int, float]] = []

    def time_budget(self) -> float | None:
        return self.seconds

    def generated(self, generations: list[Generation | SlmqError], seconds: float) -> None:
        self.calls.append((len(generations), seconds))


@pytest.mark.parametrize("engine", ["transformers", "native"])
def test_a_hook_s_time_budget_stops_every_row_where_it_is_on_both_engines(
    pair: tuple[ModelRunner, ModelRunner], engine: str
) -> None:
    runner = pair[engine == "native"]
    conversations = [DeliveryNoteTask().messages(request) for request in requests()]
    unlimited, spent = Budget(None), Budget(0.0)
    runner.hooks[:] = [unlimited]
    try:
        # Given the notes written with no budget (the tiny random model rarely ends an answer early)
        full = runner.generate(conversations, BUDGET)
        # When a hook leaves no time at all
        runner.hooks.append(spent)
        stopped = runner.generate(conversations, BUDGET)
    finally:
        runner.hooks.clear()
    # Then every row stopped after the call's first step, where the unlimited one went on
    lengths = [g.new_tokens for g in stopped if isinstance(g, Generation)]
    assert len(lengths) == len(conversations) and max(lengths) <= 8
    assert sum(g.new_tokens for g in full if isinstance(g, Generation)) > 3 * sum(lengths)
    # And every hook heard of each call once, with all of its answers
    assert [n for n, _ in unlimited.calls] == [5, 5] and [n for n, _ in spent.calls] == [5]
    assert all(seconds > 0 for _, seconds in unlimited.calls)
