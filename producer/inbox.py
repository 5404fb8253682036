"""The inbox pipeline: each new file in a folder becomes a job; its results go to the output folder.

A file is processed by whoever holds its claim (a Redis lease renewed while the job runs), so two
beat processes, or a tick delivered twice, never process one file twice; the job's id comes from the
file's content, so a run that died half way is resumed by the next tick, not redone. A processed
file moves to ``done/``; one that cannot be processed moves to ``failed/`` beside a ``.error.txt``.
"""

import json
import logging
import os
from pathlib import Path

from producer.client import FleetClient
from slmq.constants import pipeline_claim_key
from slmq.errors import BrokerUnavailableError, SlmqError
from slmq.fleet import Fleet
from slmq.pipeline import PipelineSpec
from slmq.settings import Settings
from slmq.stores.connections import broker_client
from slmq.stores.lease import Lease

log = logging.getLogger(__name__)
CLAIM_TTL_S = 30.0
PARTIAL_SUFFIXES = (".part", ".tmp", ".partial")  # files still being written: drop files by renaming them in


class InboxPipeline:
    """One pipeline of the fleet file; ``run_once()`` is one tick of its schedule."""

    def __init__(self, settings: Settings, fleet: Fleet, spec: PipelineSpec) -> None:
        self.settings = settings
        self.fleet = fleet
        self.spec = spec
        self.inbox = fleet.resolve(spec.source)
        self.output = fleet.resolve(spec.output)
        self.redis = broker_client(settings)

    def waiting(self) -> list[Path]:
        """The files in the inbox that wait to be processed, oldest name first."""
        if not self.inbox.is_dir():
            return []
        return sorted(
            path
            for path in self.inbox.iterdir()
            if path.is_file() and not path.name.startswith(".") and not path.name.endswith(PARTIAL_SUFFIXES)
        )

    def run_once(self) -> list[str]:
        """Process every waiting file nobody else has claimed; returns the names this call processed."""
        processed = []
        for path in self.waiting():
            lease = Lease(self.redis, pipeline_claim_key(self.spec.name, path.name), CLAIM_TTL_S)
            if not lease.acquire():
                continue  # another run holds it
            with lease:
                if path.exists():  # not moved away by the run that held the claim before us
                    self.process(path)
                    processed.append(path.name)
        return processed

    def process(self, path: Path) -> None:
        """Run ``path`` as a job, write its results, and move it to done/ (or failed/ with the reason)."""
        client = FleetClient(self.settings, fleet=self.fleet)
        try:
            job = client.submit_job(path, self.spec.task)
            status = job.wait(timeout=self.spec.timeout_s)
            self.output.mkdir(parents=True, exist_ok=True)
            target = self.output / f"{path.stem}.results.jsonl"
            partial = target.with_name(f".{target.name}.{os.getpid()}.part")
            with partial.open("w", encoding="utf-8") as out:
                for record in job.results():
                    out.write(json.dumps(record, ensure_ascii=False) + "\n")
            partial.replace(target)
        except BrokerUnavailableError:
            raise  # not the file's fault: it stays in the inbox for the next tick
        except SlmqError as exc:
            moved = _move(path, self.inbox / "failed", exc)
            log.warning("Pipeline %s: %s moved to %s: %s", self.spec.name, path.name, moved, exc)
            return
        moved = _move(path, self.inbox / "done")
        job.store.moved(job.id, str(moved))
        log.info("Pipeline %s: %s -> %s (%s)", self.spec.name, path.name, target, status.summary())


def _move(path: Path, folder: Path, error: SlmqError | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    if target.exists():
        target = folder / f"{path.stem}.{os.getpid()}-{os.urandom(3).hex()}{path.suffix}"
    if error is not None:
        target.with_name(target.name + ".error.txt").write_text(f"{type(error).__name__}: {error}\n")
    path.replace(target)
    return target
