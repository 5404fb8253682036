"""The native engine and a worker on a CUDA GPU, against transformers' generate() on the same GPU.

Skipped where torch sees no GPU (CI has none); bench/cuda.sh runs it on a GPU machine.
"""

import contextlib
import json
from pathlib import Path

import pytest
import torch

from producer import FleetClient
from slmq.errors import OutputValidationError
from slmq.fleet import ModelSpec
from slmq.schemas import DeliveryNote, DeliveryNoteRequest
from tests.integration.conftest import TINY_FLEET, Deployment, StartWorker, make_deployment
from workers.model.runner import Generation, ModelRunner
from workers.model.tasktypes.delivery_note import DeliveryNoteTask

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
REPO = Path(__file__).resolve().parents[2]
BUDGET = 96
GPU_FLEET = TINY_FLEET.replace("context_limit = 512\n", 'context_limit = 1024\ndevice = "cuda:0"\nengine = "native"\n')


def notes(count: int = 6) -> list[str]:
    lines = (REPO / "data/delivery_note/heldout-v2.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["text"] for line in lines[:count]]


def gpu_runners(model_dir: Path, dtype: torch.dtype) -> tuple[ModelRunner, ModelRunner]:
    """A transformers runner and a native one over the same weights on the GPU; two slots, so rows join mid-way."""
    spec = ModelSpec(name="tiny", source=f"path:{model_dir}", quantization="none", context_limit=1024, max_batch=2)
    loaded = ModelRunner.load(spec, model_dir, "cuda:0")
    model = loaded.model.to(dtype)
    reference = ModelRunner(spec, model, loaded.tokenizer, "cuda:0")
    native = ModelRunner(spec.model_copy(update={"engine": "native"}), model, loaded.tokenizer, "cuda:0")
    return reference, native


def test_both_engines_write_the_same_tokens_on_the_gpu(tiny_model_dir: Path) -> None:
    # Given the tiny model in fp32 on the GPU (so both engines' sums agree as far as argmax looks)
    reference, native = gpu_runners(tiny_model_dir, torch.float32)
    task = DeliveryNoteTask()
    requests = [DeliveryNoteRequest(text=text) for text in notes()]
    conversations = [task.messages(request) for request in requests]
    copy_from = [task.copy_source(request) for request in requests]
    # When both write six notes of different lengths under the grammar and the copy constraint
    expected = reference.generate(conversations, BUDGET, reference.json_constraint(task.output_schema(), copy_from))
    written = native.generate(conversations, BUDGET, native.json_constraint(task.output_schema(), copy_from))
    # Then they wrote the same tokens, from a cache on the GPU, with guesses kept
    assert written == expected
    assert native.engine is not None and native.engine.cache.keys[0].device.type == "cuda"
    assert native.engine.counters.kept > 0


def test_the_engine_serves_bf16_weights_on_the_gpu(tiny_model_dir: Path) -> None:
    _, native = gpu_runners(tiny_model_dir, torch.bfloat16)
    task = DeliveryNoteTask()
    conversations = [task.messages(DeliveryNoteRequest(text=text)) for text in notes()]
    written = native.generate(conversations, 32, native.json_constraint(task.output_schema()))
    assert native.engine is not None and native.engine.cache.dtype == torch.bfloat16
    for generation in written:
        assert isinstance(generation, Generation) and generation.new_tokens > 0
        assert len(generation.logprobs) == generation.new_tokens and all(lp <= 1e-6 for lp in generation.logprobs)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory, module_redis_url: str, tiny_model_dir: Path) -> Deployment:
    return make_deployment(tmp_path_factory.mktemp("gpu"), module_redis_url, tiny_model_dir, "none", GPU_FLEET)


def test_a_worker_on_the_gpu_answers_delivery_notes_through_redis(
    deployment: Deployment, start_worker: StartWorker
) -> None:
    # Given a real worker process whose model and engine sit on cuda:0
    worker = start_worker("tiny-notes")
    client = FleetClient(deployment.settings())
    # When notes go through its queue
    handles = [client.submit("delivery_note", text) for text in notes()]
    # Then each comes back as a typed record or a typed refusal, and the worker says it loaded on the GPU
    for handle in handles:
        with contextlib.suppress(OutputValidationError):  # the tiny random model may write a refused record
            assert isinstance(handle.get(timeout=120), DeliveryNote)
    assert "engine) loaded on cuda:0" in worker.output()
