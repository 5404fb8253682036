"""`slmq finetune` trains a LoRA adapter that a real worker loads over its base and serves through the queue."""

import hashlib
import json
from pathlib import Path

import pytest
from safetensors import safe_open

from producer import FleetClient
from tests.integration.conftest import Deployment, StartWorker, make_deployment

# The tiny random model, with the delivery-note specialist loading the adapter the test trains.
FLEET = """
[models.tiny-notes]
source = "path:{model_dir}"
quantization = "{quantization}"
adapter = "adapter"
max_batch = 4
max_new_tokens = 320
context_limit = 1024

[tasks.delivery_note]
model = "tiny-notes"
"""
NOTE = "Deliver 12 pallets of A4 paper to Acme Ltd, 14 Harbour Rd, Leith EH6 6QQ. PO 7731-22."
GOLD = {
    "consignee": "Acme Ltd",
    "address": {"street": "14 Harbour Rd", "city": "Leith", "region": None, "postcode": "EH6 6QQ", "country": None},
    "items": [{"quantity": 12, "unit": "pallets", "description": "A4 paper"}],
    "delivery_date": None,
    "contact_name": None,
    "contact_phone": None,
    "reference": "7731-22",
    "instructions": None,
}


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory, module_redis_url: str, tiny_model_dir: Path) -> Deployment:
    return make_deployment(tmp_path_factory.mktemp("finetune"), module_redis_url, tiny_model_dir, "none", FLEET)


def test_an_adapter_trained_by_slmq_finetune_is_served_by_the_worker(
    deployment: Deployment, start_worker: StartWorker, tmp_path: Path
) -> None:
    # Given a labelled note, repeated so a batch of four can be drawn from it
    data = tmp_path / "train.jsonl"
    data.write_text("".join(json.dumps({"text": NOTE, "gold": GOLD}) + "\n" for _ in range(8)))
    adapter = Path(deployment.env["SLMQ_FLEET"]).parent / "adapter"
    # When slmq finetune trains long enough for the tiny model to learn that one answer
    done = deployment.cli(
        "finetune", "delivery_note", "--data", str(data), "-o", str(adapter),
        "--steps", "60", "--batch-size", "4", "--learning-rate", "0.02", "--save-every", "30",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "step 60/60" in done.stderr
    # Then the adapter is safetensors in bf16 with the recipe that made it
    with safe_open(str(adapter / "adapter_model.safetensors"), "pt") as weights:
        names = list(weights.keys())
        assert {str(weights.get_tensor(name).dtype) for name in names} == {"torch.bfloat16"}
        assert any("lora_A" in name for name in names)
    recipe = json.loads((adapter / "recipe.json").read_text())
    assert recipe["steps_done"] == 60 and recipe["config"]["learning_rate"] == 0.02
    assert recipe["data"]["file"] == str(data) and len(recipe["data"]["sha256"]) == 64
    assert recipe["loss_last_10"][-1] < recipe["loss_first_10"][0]
    # And a worker that loads it over the random base answers that note with the learned record
    start_worker("tiny-notes")
    result = FleetClient(deployment.settings()).submit("delivery_note", NOTE).get(timeout=120)
    assert result.model_dump(mode="json") == GOLD


def test_finetune_refuses_a_data_file_without_labels(deployment: Deployment, tmp_path: Path) -> None:
    # Given records with text but no gold record
    data = tmp_path / "unlabelled.jsonl"
    data.write_text(json.dumps({"id": "n1", "text": NOTE}) + "\n")
    # When slmq finetune is pointed at them, then it names the line and the missing key, and trains nothing
    done = deployment.cli("finetune", "delivery_note", "--data", str(data), "-o", str(tmp_path / "out"))
    assert done.returncode == 1
    assert f"{data}:1: a training record needs 'text' and 'gold' keys" in done.stderr
    assert not (tmp_path / "out").exists()


def test_finetune_goes_on_from_an_adapter_over_the_nf4_weights_and_records_its_parent(
    deployment: Deployment, tmp_path: Path
) -> None:
    # Given an adapter trained over the unquantized weights
    data = tmp_path / "train.jsonl"
    data.write_text("".join(json.dumps({"text": NOTE, "gold": GOLD}) + "\n" for _ in range(8)))
    parent, child = tmp_path / "parent", tmp_path / "child"
    common = ("--data", str(data), "--batch-size", "4", "--learning-rate", "0.02", "--rank", "4")
    first = deployment.cli("finetune", "delivery_note", "-o", str(parent), "--steps", "20", *common)
    assert first.returncode == 0, first.stderr[-3000:]
    # When training goes on from it over the nf4-rounded weights (and a --rank that the parent's overrides)
    more = ("--init-adapter", str(parent), "--quantization", "nf4", "--steps", "4")
    done = deployment.cli("finetune", "delivery_note", "-o", str(child), *more, *common[:-1], "8")
    assert done.returncode == 0, done.stderr[-3000:]
    # Then it starts from what the parent learned, not from scratch, over nf4 weights
    parent_recipe = json.loads((parent / "recipe.json").read_text())
    recipe = json.loads((child / "recipe.json").read_text())
    assert "over nf4 weights" in done.stderr
    assert recipe["loss_first_10"][0] < parent_recipe["loss_first_10"][0] / 2
    # And its recipe says which adapter it went on from, with that adapter's own recipe
    assert recipe["config"]["quantization"] == "nf4" and recipe["config"]["rank"] == 4
    assert recipe["init_adapter"]["path"] == str(parent)
    assert (
        recipe["init_adapter"]["sha256"]
        == hashlib.sha256((parent / "adapter_model.safetensors").read_bytes()).hexdigest()
    )
    assert recipe["init_adapter"]["recipe"] == parent_recipe
