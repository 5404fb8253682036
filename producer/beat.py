"""``slmq beat``: Celery beat for the fleet's pipelines, and the small consumer that runs them.

One process does both: a Celery worker on the pipeline queue (threads, no model, no torch) with the
beat scheduler embedded. Two of them by mistake send every tick twice; the per-file claims of
``InboxPipeline`` make that harmless.
"""

import logging
import os
import socket

from celery import Celery

from celeryconfig import beat_schedule
from producer.inbox import InboxPipeline
from slmq.constants import PIPELINE_QUEUE, PIPELINE_TASK
from slmq.fleet import load_fleet
from slmq.settings import Settings
from slmq.stores.broker import create_app

log = logging.getLogger("slmq.beat")


def build_beat_app(settings: Settings) -> Celery:
    """The app of ``slmq beat``: the fleet's pipelines as its schedule and the pipeline task."""
    fleet = load_fleet(settings.fleet)
    app = create_app(settings)
    app.conf.beat_schedule = beat_schedule(fleet)

    # A tick is not acked late: the next tick comes anyway, and the claims guard every file.
    @app.task(name=PIPELINE_TASK, acks_late=False, ignore_result=True)  # type: ignore[untyped-decorator]
    def run_pipeline(name: str) -> list[str]:
        """One tick of pipeline ``name``: process the files waiting in its inbox."""
        spec = fleet.pipelines.get(name)
        if spec is None:
            log.warning("No pipeline %r in %s; ignoring its tick", name, fleet.path)
            return []
        return InboxPipeline(settings, fleet, spec).run_once()

    return app


def run_beat(settings: Settings, concurrency: int, node_name: str | None = None) -> None:
    """Send the pipelines' ticks and run them, until stopped (SIGTERM)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = build_beat_app(settings)
    if not app.conf.beat_schedule:
        log.warning("The fleet file declares no [pipelines.<name>]; beat has nothing to schedule")
    node = node_name or f"beat-{os.getpid()}@{socket.gethostname()}"
    # The in-memory scheduler: no schedule file for two processes to fight over.
    app.worker_main(
        ["worker", "--beat", "--scheduler", "celery.beat:Scheduler", "--pool", "threads",
         "--concurrency", str(concurrency), "--queues", PIPELINE_QUEUE, "--hostname", node, "--loglevel", "INFO",
         "--without-mingle", "--without-gossip"]
    )  # fmt: skip
