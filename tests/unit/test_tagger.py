"""The span tagger as a worker serves it, on the tiny random Llama: a tagger directory written by training's own
save, loaded by the runner with its adapter merged, and delivery_note answered by one forward pass per batch."""

from pathlib import Path

import pytest
import torch

from slmq.errors import InvalidPayloadError, ModelLoadError, OutputValidationError
from slmq.fleet import ModelSpec
from slmq.schemas import DeliveryNoteRequest
from slmq.training.tagger import TaggerConfig, save_checkpoint
from workers.model.runner import ModelRunner
from workers.model.tagger import SpanTagger, Thresholds, encode, lora_config, pad, spans_of
from workers.model.tagging import record_from_spans
from workers.model.tasktypes.base import Answered
from workers.model.tasktypes.delivery_note import DeliveryNoteTask, tagged_outcome

NOTES = [
    "Deliver 12 pallets of A4 paper to Acme Ltd, 14 Harbour Rd, Leith EH6 6QQ before Friday 10am.",
    "Call Jim on 07700 900123 on arrival. PO 7731-22. Leave with reception.",
]


def _spec(model_dir: Path, context_limit: int = 512) -> ModelSpec:
    return ModelSpec(name="tiny", source=f"path:{model_dir}", quantization="none", context_limit=context_limit)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def trained(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SpanTagger, ModelRunner]:
    """A tagger directory with a LoRA adapter that is not zero (as after training), and its unmerged model."""
    from peft import get_peft_model

    torch.manual_seed(1)
    base = ModelRunner.load(_spec(tiny_model_dir), tiny_model_dir, "cpu")
    adapted = get_peft_model(base.model, lora_config(4))
    for name, parameter in adapted.named_parameters():
        if "lora_B" in name:
            torch.nn.init.normal_(parameter, std=0.05)
    tagger = SpanTagger(adapted.get_base_model()).eval()
    directory = tmp_path_factory.mktemp("tagger")
    save_checkpoint(adapted, tagger, directory, TaggerConfig(rank=4), 0, [], 0.0)
    return directory, tagger, base


@pytest.fixture(scope="module")
def served(trained: tuple[Path, SpanTagger, ModelRunner], tiny_model_dir: Path) -> SpanTagger:
    """The tagger directory loaded as a worker loads it: its adapter merged into the model."""
    runner = ModelRunner.load(_spec(tiny_model_dir), tiny_model_dir, "cpu", tagger_dir=trained[0])
    assert runner.tagger is not None
    return runner.tagger


def test_the_served_tagger_computes_what_its_unmerged_training_model_does(
    trained: tuple[Path, SpanTagger, ModelRunner], served: SpanTagger, tiny_model_dir: Path
) -> None:
    _, unmerged, base = trained
    ids, mask = pad([encode(base.tokenizer, note).input_ids for note in NOTES], base.tokenizer.pad_token_id)
    with torch.inference_mode():
        expected, got = unmerged(ids, mask), served(ids, mask)
        plain = SpanTagger(ModelRunner.load(_spec(tiny_model_dir), tiny_model_dir, "cpu").model)
        plain.head.load_state_dict(served.head.state_dict())
        without_adapter = plain(ids, mask)
    assert torch.allclose(got, expected, atol=1e-4)
    assert not torch.allclose(without_adapter, expected, atol=1e-3)  # so the adapter was merged, not dropped


def test_notes_tagged_alone_or_padded_into_one_forward_get_the_same_records(
    trained: tuple[Path, SpanTagger, ModelRunner], served: SpanTagger
) -> None:
    tokenizer = trained[2].tokenizer
    notes = [NOTES[0], NOTES[1], " ".join(NOTES)]  # three lengths: the shorter two are padded in one forward
    encoded = [encode(tokenizer, note) for note in notes]
    forwards: list[int] = []  # the rows of each forward pass, as the head sees them
    hook = served.head.register_forward_hook(lambda _module, args, _output: forwards.append(args[0].shape[0]))
    try:
        alone = served.tag(notes, encoded, tokenizer.pad_token_id)  # the default on a CPU: one note a forward
        together = served.tag(notes, encoded, tokenizer.pad_token_id, per_forward=len(notes))
    finally:
        hook.remove()
    assert forwards == [1, 1, 1, 3]
    assert [record for record, _ in alone] == [record for record, _ in together]
    for (_, mine), (_, theirs) in zip(alone, together, strict=True):
        assert mine.pop("items") == pytest.approx(theirs.pop("items"), abs=1e-5)
        assert mine == pytest.approx(theirs, abs=1e-5)


def test_delivery_note_is_answered_by_tagging_with_a_confidence_per_field_and_item(
    trained: tuple[Path, SpanTagger, ModelRunner], tiny_model_dir: Path
) -> None:
    directory, _, _ = trained
    runner = ModelRunner.load(_spec(tiny_model_dir, context_limit=96), tiny_model_dir, "cpu", tagger_dir=directory)
    long_note = " ".join(NOTES * 4)
    requests = [DeliveryNoteRequest(text=text) for text in (NOTES[0], long_note, NOTES[1])]
    outcomes = DeliveryNoteTask().run(runner, requests, max_new_tokens=1)
    assert len(outcomes) == 3
    assert isinstance(outcomes[1], InvalidPayloadError) and "context_limit of 96" in outcomes[1].message
    assert runner.tagger is not None
    for outcome, expected in zip(
        (outcomes[0], outcomes[2]), runner.tagger.predict(runner.tokenizer, [NOTES[0], NOTES[1]]), strict=True
    ):
        assert isinstance(outcome, Answered), outcome
        record, confidence = expected
        assert outcome.result.model_dump(exclude={"confidence"}, mode="json")["items"] == record["items"]
        assert outcome.result.confidence is not None
        assert len(outcome.result.confidence.items) == len(outcome.result.items)
        assert outcome.result.confidence.model_dump()["address.street"] == round(confidence["address.street"], 4)


def test_a_record_the_schema_refuses_is_a_typed_error_with_the_record() -> None:
    outcome = tagged_outcome(({"consignee": "Acme", "items": [{"quantity": -1, "description": "x"}]}, {}))
    assert isinstance(outcome, OutputValidationError)
    assert (
        "span tagger's record is not a valid delivery_note result" in outcome.message and "Acme" in outcome.raw_output
    )


def test_a_directory_without_a_tagger_is_a_load_error_that_says_how_to_make_one(
    trained: tuple[Path, SpanTagger, ModelRunner], tiny_model_dir: Path
) -> None:
    directory, _, _ = trained
    missing = directory.parent / "no-such-tagger"
    with pytest.raises(ModelLoadError, match=r"python -m slmq\.training\.tagger train"):
        ModelRunner.load(_spec(tiny_model_dir), tiny_model_dir, "cpu", tagger_dir=missing)


def test_tune_scores_every_threshold_of_its_grid_on_generated_notes_best_first(
    trained: tuple[Path, SpanTagger, ModelRunner], served: SpanTagger
) -> None:
    from slmq.training.tagger_eval import TUNED_EXTEND, TUNED_IN_SPAN, tune

    tokenizer = trained[2].tokenizer
    encoded = encode(tokenizer, NOTES[0])
    ids, mask = pad([encoded.input_ids], tokenizer.pad_token_id)
    with torch.inference_mode():
        whole = served(ids, mask).softmax(-1)[0, encoded.first : encoded.first + len(encoded.offsets)]
    assert torch.allclose(served.probabilities(encoded), whole)
    rows = tune(served, tokenizer, count=2, seed=5)
    grid = [(i, e, j) for i in TUNED_IN_SPAN for e in TUNED_EXTEND if e <= i for j in (True, False)]
    assert sorted((row["in_span"], row["extend"], row["joined"]) for row in rows) == sorted(grid)
    ranked = [(row["f1"], row["exact"]) for row in rows]
    assert ranked == sorted(ranked, reverse=True)


def test_train_refuses_a_start_that_is_no_tagger_and_resume_with_init_before_loading_a_model(
    trained: tuple[Path, SpanTagger, ModelRunner], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from slmq.training.tagger import main

    directory = str(trained[0])
    assert main(["train", "-o", str(tmp_path / "out"), "--init", str(tmp_path / "nothing")]) == 2
    assert (
        capsys.readouterr().err.strip().endswith("holds no tagger (tagger.json); give the -o directory of a train run.")
    )
    with pytest.raises(SystemExit):
        main(["train", "-o", str(tmp_path / "out"), "--init", directory, "--resume", directory])
    assert "give one of them" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_train_refuses_bf16_on_a_cpu_without_bf16_units_before_loading_a_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from slmq.errors import SlmqError
    from slmq.training.tagger import main

    # Given a CPU without AVX-512 bf16 or AMX (read off /proc/cpuinfo; here the reading is fixed)
    monkeypatch.setattr("slmq.training.tagger.cpu_has_bf16", lambda: False)
    # Then --bf16 is refused with what to give instead, and no run directory is made
    with pytest.raises(SlmqError, match="train with --no-bf16"):
        main(["train", "-o", str(tmp_path / "out"), "--bf16"])
    assert not (tmp_path / "out").exists()


@pytest.fixture(scope="module")
def tiny_gemma_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.tiny_model import build_tiny_gemma

    return build_tiny_gemma(tmp_path_factory.mktemp("tiny-gemma"))


def test_a_bidirectional_tagger_reads_the_note_once_and_tags_each_token_by_what_follows_it(
    tiny_gemma_dir: Path,
) -> None:
    runner = ModelRunner.load(_spec(tiny_gemma_dir), tiny_gemma_dir, "cpu")
    tokenizer = runner.tokenizer
    # Given a note read once, after the BOS and the prefix, and the same note with its last word changed
    once = encode(tokenizer, NOTES[1], echo=False)
    twice = encode(tokenizer, NOTES[1])
    prefix = tokenizer.encode("Delivery note:\n", add_special_tokens=False)
    assert once.input_ids[: once.first] == [tokenizer.bos_token_id, *prefix]
    assert once.input_ids[once.first :] == twice.input_ids[twice.first :] and once.offsets == twice.offsets
    changed = encode(tokenizer, NOTES[1].replace("reception", "security"), echo=False)
    assert changed.input_ids[: once.first + 3] == once.input_ids[: once.first + 3]
    causal = SpanTagger(runner.model).eval()
    both_ways = SpanTagger(ModelRunner.load(_spec(tiny_gemma_dir), tiny_gemma_dir, "cpu").model, True).eval()
    both_ways.head.load_state_dict(causal.head.state_dict())
    # Then the causal model's first note token does not see the change, the bidirectional one's does
    assert torch.equal(causal.probabilities(once)[0], causal.probabilities(changed)[0])
    assert not torch.allclose(both_ways.probabilities(once)[0], both_ways.probabilities(changed)[0], atol=1e-4)
    assert both_ways.encode(tokenizer, NOTES[1]) == once and causal.encode(tokenizer, NOTES[1]) == twice


def test_a_bidirectional_tagger_is_served_as_it_was_trained(tiny_gemma_dir: Path, tmp_path: Path) -> None:
    from peft import get_peft_model

    torch.manual_seed(2)
    adapted = get_peft_model(ModelRunner.load(_spec(tiny_gemma_dir), tiny_gemma_dir, "cpu").model, lora_config(4))
    for name, parameter in adapted.named_parameters():
        if "lora_B" in name:
            torch.nn.init.normal_(parameter, std=0.05)
    trained = SpanTagger(adapted.get_base_model(), bidirectional=True).eval()
    save_checkpoint(adapted, trained, tmp_path, TaggerConfig(rank=4, bidirectional=True), 0, [], 0.0)
    runner = ModelRunner.load(_spec(tiny_gemma_dir), tiny_gemma_dir, "cpu", tagger_dir=tmp_path)
    assert runner.tagger is not None and not runner.tagger.echo
    encoded = runner.tagger.encode(runner.tokenizer, " ".join(NOTES))  # longer than the sliding window of 8
    assert torch.allclose(runner.tagger.probabilities(encoded), trained.probabilities(encoded), atol=1e-4)
    served, unmerged = runner.tagger.predict(runner.tokenizer, NOTES), trained.predict(runner.tokenizer, NOTES)
    assert [record for record, _ in served] == [record for record, _ in unmerged]
    # And a worker warms it up by tagging, which needs no chat template (Gemma-3-270M base has none)
    runner.tokenizer.chat_template = None
    forwards: list[int] = []
    hook = runner.tagger.head.register_forward_hook(lambda _module, args, _output: forwards.append(args[0].shape[0]))
    try:
        runner.warm_up()
    finally:
        hook.remove()
    assert forwards == [1]


def test_a_model_that_cannot_attend_both_ways_is_a_load_error_that_says_what_can(tiny_model_dir: Path) -> None:
    model = ModelRunner.load(_spec(tiny_model_dir), tiny_model_dir, "cpu").model
    with pytest.raises(ModelLoadError, match=r"A llama model cannot attend both ways; .*bidirectional off"):
        SpanTagger(model, bidirectional=True)


def test_thresholds_saved_in_a_tagger_recipe_are_the_ones_its_worker_decodes_with(
    trained: tuple[Path, SpanTagger, ModelRunner], tiny_model_dir: Path, tmp_path: Path
) -> None:
    import shutil

    from slmq.training.tagger_eval import save_thresholds

    directory = shutil.copytree(trained[0], tmp_path / "tagger")
    default = ModelRunner.load(_spec(tiny_model_dir), tiny_model_dir, "cpu", tagger_dir=directory)
    assert default.tagger is not None and default.tagger.thresholds == Thresholds()
    chosen = Thresholds(in_span=0.3, extend=0.05, joined=False)
    save_thresholds(directory, chosen, "2 generated held-out notes, seed 5")
    runner = ModelRunner.load(_spec(tiny_model_dir), tiny_model_dir, "cpu", tagger_dir=directory)
    assert runner.tagger is not None and runner.tagger.thresholds == chosen
    encoded = [runner.tagger.encode(runner.tokenizer, note) for note in NOTES]
    expected = [
        record_from_spans(note, *spans_of(note, enc, runner.tagger.probabilities(enc), chosen))[0]
        for note, enc in zip(NOTES, encoded, strict=True)
    ]
    assert [record for record, _ in runner.tagger.predict(runner.tokenizer, NOTES)] == expected
    assert [record for record, _ in default.tagger.predict(runner.tokenizer, NOTES)] != expected


def test_a_tagger_over_another_model_is_a_load_error_that_names_both(
    trained: tuple[Path, SpanTagger, ModelRunner], tiny_gemma_dir: Path
) -> None:
    # Given a tagger trained over the tiny Llama (its recipe records the backbone), served over the tiny Gemma
    with pytest.raises(ModelLoadError, match=r"trained over \{'model_type': 'llama'.*\(\{'model_type': 'gemma3_text'"):
        ModelRunner.load(_spec(tiny_gemma_dir), tiny_gemma_dir, "cpu", tagger_dir=trained[0])


def test_averaged_taggers_hold_the_mean_of_their_weights_and_load_as_a_worker_loads_them(
    trained: tuple[Path, SpanTagger, ModelRunner], tiny_model_dir: Path, tmp_path: Path
) -> None:
    import json
    import shutil

    from safetensors.torch import load_file, save_file

    from slmq.errors import SlmqError
    from slmq.training.tagger import main

    # Given a tagger and one trained on from it (here: its weights moved)
    first, second = trained[0], tmp_path / "second"
    shutil.copytree(first, second)
    for name in ("lora.safetensors", "head.safetensors"):
        save_file({k: v * 3 + 1 for k, v in load_file(str(first / name)).items()}, str(second / name))
    # When they are averaged
    assert main(["average", str(first), str(second), "-o", str(tmp_path / "soup")]) == 0
    # Then every tensor is the mean of theirs, the recipe lists both, and a worker serves it
    for name in ("lora.safetensors", "head.safetensors"):
        a, b, mean = (load_file(str(d / name)) for d in (first, second, tmp_path / "soup"))
        assert mean.keys() == a.keys() and all(torch.allclose(mean[k], (a[k] + b[k]) / 2) for k in a)
    recipe = json.loads((tmp_path / "soup" / "tagger.json").read_text())
    assert len(recipe["averaged"]) == 2 and recipe["config"]["rank"] == 4 and "thresholds" not in recipe
    runner = ModelRunner.load(_spec(tiny_model_dir), tiny_model_dir, "cpu", tagger_dir=tmp_path / "soup")
    assert runner.tagger is not None
    # And taggers of another adapter rank are refused, a directory with no tagger in one line
    recipe = json.loads((second / "tagger.json").read_text())
    recipe["config"]["rank"] = 8
    (second / "tagger.json").write_text(json.dumps(recipe))
    with pytest.raises(SlmqError, match="differ in backbone or adapter rank"):
        main(["average", str(first), str(second), "-o", str(tmp_path / "other")])
    assert main(["average", str(first), str(tmp_path / "nothing"), "-o", str(tmp_path / "other")]) == 2
