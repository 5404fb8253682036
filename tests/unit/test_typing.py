"""What a type checker sees of the public API: a task type's spec types its handle's result.

mypy runs on a caller's code (with the project's own strict settings); ``assert_type`` fails the check
wherever the inferred type differs, so a signature that loses the result type fails this test.
"""

from pathlib import Path

from mypy import api

CALLER = """
from collections.abc import Iterator
from typing import assert_type

from pydantic import BaseModel

from producer.client import FleetClient, TaskHandle
from slmq.errors import SlmqError
from slmq.schemas import DELIVERY_NOTE, SENTIMENT, DeliveryNote, SentimentResult
from slmq.stores.jobstore import JobState, JobStatus


def caller(client: FleetClient, status: JobStatus) -> None:
    handle = client.submit(DELIVERY_NOTE, {"text": "2 pallets to Acme, 1 Main St"})
    assert_type(handle, TaskHandle[DeliveryNote])
    assert_type(handle.get(timeout=10), DeliveryNote)
    assert_type(client.submit("delivery_note", {"text": "2 pallets"}).get(), BaseModel)
    assert_type(client.map(SENTIMENT, [{"text": "great"}]), Iterator[SentimentResult | SlmqError])
    assert_type(status.state, JobState)
"""


def test_a_spec_types_the_result_of_submit_and_map_and_job_states_are_an_enum(tmp_path: Path) -> None:
    caller = tmp_path / "caller.py"
    caller.write_text(CALLER, encoding="utf-8")
    root = Path(__file__).resolve().parents[2]
    stdout, stderr, status = api.run(
        ["--config-file", str(root / "pyproject.toml"), "--cache-dir", str(root / ".mypy_cache"), str(caller)]
    )
    assert status == 0, stdout + stderr
