"""Worker start-up: pin the device, fetch and load the model, warm it up, then consume its queue."""

import atexit
import logging
import resource

from slmq.constants import DEFAULT_NODE_TEMPLATE
from slmq.fleet import load_fleet
from slmq.settings import Settings
from slmq.stores.connections import broker_client
from slmq.stores.status import queue_depth
from workers.model.device import pin_device, thread_count
from workers.versions import check_versions

log = logging.getLogger("slmq.worker")


def run_worker(
    settings: Settings,
    model_name: str,
    device: str | None = None,
    node_name: str | None = None,
    threads: int | None = None,
) -> None:
    """Run a worker for ``model_name`` until it is told to stop (SIGTERM: warm shutdown, nothing lost)."""
    settings.effective_visibility_timeout_s()  # inconsistent time limits fail before the model loads
    check_versions()  # the transport is written against one kombu: another fails here, not on the first message
    fleet = load_fleet(settings.fleet)
    spec = fleet.model(model_name)
    device = device or spec.device
    torch_device = pin_device(device)  # before anything below imports torch
    cpu_workers = settings.workers_per_host or sum(model.device == "cpu" for model in fleet.models.values())
    torch_threads = thread_count(threads, spec.threads, cpu_workers)

    import torch

    torch.set_num_threads(torch_threads)

    from workers.app import build_worker_app
    from workers.liveness import Liveness
    from workers.logs import redact_message_bodies
    from workers.meter import WorkerMeter
    from workers.model.runner import ModelRunner
    from workers.model.sources import materialize
    from workers.modelthread import ModelThread
    from workers.recorder import JobRecorder

    model_dir = materialize(spec, fleet, settings.models_dir)
    adapter_dir = fleet.resolve(spec.adapter) if spec.adapter else None
    tagger_dir = fleet.resolve(spec.tagger) if spec.tagger else None

    def load() -> ModelRunner:
        runner = ModelRunner.load(spec, model_dir, torch_device, adapter_dir, tagger_dir=tagger_dir)
        runner.warm_up()
        return runner

    model_thread = ModelThread()  # all torch work runs there, never on this thread (workers/modelthread.py)
    runner = model_thread.call(load)
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    dense = f" dequantized to {runner.model.dtype}" if runner.dequantized else f" in {runner.model.dtype}"
    log.info(
        "Model %s (%s, %s%s, %s engine) loaded on %s in %.1fs; peak RSS %.0f MiB; %d torch threads; consuming %s",
        spec.name, spec.source, spec.quantization, dense,
        "span tagger" if runner.tagger else spec.engine, device,
        runner.load_seconds, rss_mib, torch_threads, spec.queue,
    )  # fmt: skip
    broker = broker_client(settings)
    recorder = JobRecorder(broker, settings.result_expires_s, spec, device, settings.task_time_limit_s)
    meter = WorkerMeter(broker, spec.name)  # after warm-up: its generation is not counted
    app, _ = build_worker_app(
        settings, fleet, runner, recorder, meter, lambda: queue_depth(broker, spec.queue), model_thread
    )
    # Celery's per-task log lines carry results and errors, which quote note text; the batcher logs
    # ids and sizes instead. Failures a caller can see still reach the result backend.
    logging.getLogger("celery.app.trace").setLevel(logging.WARNING)
    # Nor a 'received' line per message: the batch lines carry every task id, and without it no-op tasks/s went
    # from 0.53x to 0.88x plain Celery's (bench/noop.py). Read when the strategies are built, so set first.
    logging.getLogger("celery.worker.strategy").setLevel(logging.WARNING)
    redact_message_bodies()  # nor does Celery's report of a message it rejects (unknown task, undecodable)
    node = node_name or DEFAULT_NODE_TEMPLATE.format(model=spec.name, device=device)
    meter.start_heartbeat(node, device, torch_device, runner.load_seconds, settings.metrics_heartbeat_s)
    atexit.register(meter.stop)
    liveness = Liveness(broker, settings.worker_dead_after_s)  # before the first pop: what it holds is owned
    liveness.start()
    atexit.register(liveness.stop)
    # solo pool: the model lives in this process, never in a parent that forks. The prefetch window
    # is one batch, so the batcher can see max_batch messages at once; they stay unacked until answered.
    app.worker_main(
        ["worker", "--pool", "solo", "--queues", spec.queue, "--hostname", node, "--loglevel", "INFO",
         "--prefetch-multiplier", str(spec.max_batch), "--without-mingle", "--without-gossip", "--task-events"]
    )  # fmt: skip
