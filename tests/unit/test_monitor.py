"""Fleet metrics encoding and exposition, and the guards around `slmq flower`; no services."""

from pathlib import Path
from typing import Any

import pytest
from prometheus_client.exposition import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from slmq.cli.exporter import families
from slmq.cli.flower import flower_argv, is_loopback
from slmq.errors import ConfigError, InferenceError, OutputValidationError, PayloadTooLargeError, TaskFailedError
from slmq.fleet import load_fleet
from slmq.schemas import GeneralResult
from slmq.settings import Settings
from slmq.stores.metrics import BATCH_SIZE, TASKS, MetricsBatch, Snapshot, WorkerGauges, bucket_bound, parse_samples
from workers.meter import outcome_label
from workers.model.tasktypes import Answered

FLEET = """
[models.tiny]
source = "path:."
[tasks.sentiment]
model = "tiny"
"""


class Families:
    """A collector over a fixed snapshot, so prometheus-client renders exactly what `slmq metrics` would."""

    def __init__(self, snapshot: Snapshot, fleet_path: Path) -> None:
        self.snapshot = snapshot
        self.fleet = load_fleet(fleet_path)

    def collect(self) -> list[Any]:
        return list(families(self.snapshot, self.fleet))


def exposition(batch: MetricsBatch, tmp_path: Path, workers: list[WorkerGauges] | None = None) -> str:
    (tmp_path / "fleet.toml").write_text(FLEET)
    raw = {key.encode(): str(value).encode() for key, value in batch.increments.items()}
    snapshot = Snapshot(parse_samples(raw), workers or [], {"slmq.tiny": 3}, unacked=2)
    return generate_latest(Families(snapshot, tmp_path / "fleet.toml")).decode()


def test_an_observation_lands_in_exactly_one_bucket() -> None:
    assert bucket_bound(BATCH_SIZE, 1) == "1.0"
    assert bucket_bound(BATCH_SIZE, 3) == "4.0"
    assert bucket_bound(BATCH_SIZE, 10_000) == "+Inf"


def test_histograms_are_exposed_cumulatively_with_count_and_sum(tmp_path: Path) -> None:
    batch = MetricsBatch()
    for size in (1, 3, 3, 16):
        batch.observe(BATCH_SIZE, {"model": "tiny"}, size)
    text = exposition(batch, tmp_path)
    samples = {
        (s.name, s.labels.get("le")): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name.startswith("slmq_batch_size")
    }
    assert samples[("slmq_batch_size_bucket", "1.0")] == 1
    assert samples[("slmq_batch_size_bucket", "2.0")] == 1
    assert samples[("slmq_batch_size_bucket", "4.0")] == 3
    assert samples[("slmq_batch_size_bucket", "+Inf")] == 4
    assert samples[("slmq_batch_size_count", None)] == 4
    assert samples[("slmq_batch_size_sum", None)] == 23


def test_counters_gauges_and_queue_depths_follow_prometheus_naming(tmp_path: Path) -> None:
    batch = MetricsBatch()
    batch.add(TASKS, {"model": "tiny", "task_type": "sentiment", "outcome": "ok"}, 5)
    worker = WorkerGauges("tiny@cpu", "tiny", "cpu", {"rss_bytes": 1e9, "load_seconds": 2.5})
    text = exposition(batch, tmp_path, [worker])
    assert "# TYPE slmq_tasks_total counter" in text
    assert 'slmq_tasks_total{model="tiny",outcome="ok",task_type="sentiment"} 5.0' in text
    assert 'slmq_worker_resident_memory_bytes{device="cpu",model="tiny",node="tiny@cpu"} 1e+09' in text
    assert 'slmq_model_load_seconds{device="cpu",model="tiny",node="tiny@cpu"} 2.5' in text
    assert 'slmq_queue_depth{model="tiny",queue="slmq.tiny"} 3.0' in text
    assert 'slmq_workers{model="tiny"} 1.0' in text
    assert "slmq_unacked_messages 2.0" in text
    assert "slmq_worker_gpu_memory_bytes{" not in text  # a CPU worker has none


def test_a_metric_refuses_labels_it_does_not_declare() -> None:
    with pytest.raises(ValueError, match="takes labels"):
        MetricsBatch().add(TASKS, {"model": "tiny"})


def test_outcomes_are_labelled_by_error_class() -> None:
    assert outcome_label(Answered(GeneralResult(answer="yes"))) == "ok"
    assert outcome_label(Answered(GeneralResult(answer="yes"), retries=1)) == "re-asked"
    assert outcome_label(OutputValidationError("bad", "raw")) == "invalid_output"
    assert outcome_label(PayloadTooLargeError("big")) == "invalid_payload"
    assert outcome_label(InferenceError("oom")) == "inference_error"
    assert outcome_label(TaskFailedError("other")) == "error"


def test_flower_refuses_to_start_without_credentials() -> None:
    with pytest.raises(ConfigError, match="set SLMQ_FLOWER_USER and SLMQ_FLOWER_PASSWORD"):
        flower_argv(Settings(flower_user=None, flower_password=None), "127.0.0.1", 5555, allow_control=False)
    with pytest.raises(ConfigError, match="SLMQ_FLOWER_USER and SLMQ_FLOWER_PASSWORD"):
        flower_argv(Settings(flower_user="ops", flower_password=None), "127.0.0.1", 5555, allow_control=False)


def test_flower_credentials_that_flower_would_misread_are_refused() -> None:
    with pytest.raises(ConfigError, match="must not contain ':'"):
        flower_argv(Settings(flower_user="a:b", flower_password="pw"), "127.0.0.1", 5555, allow_control=False)
    with pytest.raises(ConfigError, match="must not contain ','"):
        flower_argv(Settings(flower_user="ops", flower_password="a,b"), "127.0.0.1", 5555, allow_control=False)


def test_flower_is_read_only_unless_control_is_allowed() -> None:
    settings = Settings(flower_user="ops", flower_password="s3cret")
    argv = flower_argv(settings, "127.0.0.1", 5555, allow_control=False)
    assert "--basic_auth=ops:s3cret" in argv and "--read_only=True" in argv
    assert "--read_only=True" not in flower_argv(settings, "127.0.0.1", 5555, allow_control=True)
    assert "s3cret" not in repr(settings)


def test_loopback_addresses_are_recognised() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("") and not is_loopback("flower.internal")
