"""``slmq metrics``: one Prometheus endpoint for the whole fleet, read from Redis at each scrape.

Workers add their counts to Redis (``slmq.stores.metrics``), so the endpoint survives worker restarts,
sees every worker of every model, and needs no scrape target per worker. Queue depths are read
live from the broker. Needs the ``monitor`` extra (prometheus-client).
"""

import logging
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence

import redis

from slmq.constants import PRIORITY_SUFFIXES
from slmq.errors import BrokerUnavailableError, ConfigError
from slmq.fleet import Fleet, load_fleet
from slmq.settings import Settings
from slmq.stores.connections import broker_client
from slmq.stores.metrics import (
    INF,
    QUEUE_DEPTH,
    STORED,
    UNACKED,
    WORKER_GAUGES,
    WORKERS,
    MetricSpec,
    Snapshot,
    read_snapshot,
)

try:
    from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
    from prometheus_client.exposition import start_http_server
    from prometheus_client.registry import CollectorRegistry
except ImportError as exc:
    raise ConfigError("slmq metrics needs prometheus-client; install it with pip install 'slmq[monitor]'.") from exc

log = logging.getLogger(__name__)
Samples = dict[tuple[str, tuple[str, ...]], float]


class FleetCollector:
    """A prometheus-client collector that reads the fleet's metrics from Redis at each scrape."""

    def __init__(self, client: redis.Redis, fleet: Fleet, suffixes: Sequence[str]) -> None:
        self.client = client
        self.fleet = fleet
        self.suffixes = tuple(suffixes)

    def collect(self) -> Iterable[Metric]:
        queues = [spec.queue for spec in self.fleet.models.values()]
        try:
            snapshot = read_snapshot(self.client, queues, self.suffixes)
        except redis.RedisError as exc:
            log.warning("Cannot read fleet metrics from Redis: %s", exc)
            raise BrokerUnavailableError(f"Cannot read fleet metrics from Redis: {exc}.") from None
        return list(families(snapshot, self.fleet))


def families(snapshot: Snapshot, fleet: Fleet) -> Iterator[Metric]:
    """Every metric family of the fleet, from one snapshot."""
    for spec in STORED:
        yield _histogram(spec, snapshot.samples) if spec.kind == "histogram" else _counter(spec, snapshot.samples)
    yield from _worker_families(snapshot, fleet)
    depth = GaugeMetricFamily(QUEUE_DEPTH.name, QUEUE_DEPTH.help, labels=QUEUE_DEPTH.labels)
    for model in fleet.models.values():
        depth.add_metric([model.name, model.queue], snapshot.queue_depths.get(model.queue, 0))
    yield depth
    yield GaugeMetricFamily(UNACKED.name, UNACKED.help, value=snapshot.unacked)


def _counter(spec: MetricSpec, samples: Samples) -> Metric:
    family = CounterMetricFamily(spec.name, spec.help, labels=spec.labels)
    for (name, values), value in sorted(samples.items()):
        if name == spec.name:
            family.add_metric(list(values), value)
    return family


def _histogram(spec: MetricSpec, samples: Samples) -> Metric:
    family = HistogramMetricFamily(spec.name, spec.help, labels=spec.labels)
    counts = {values: value for (name, values), value in samples.items() if name == f"{spec.name}_count"}
    for values in sorted(counts):
        buckets, total = [], 0.0
        for bound in [*map(lambda b: repr(float(b)), spec.buckets), INF]:
            total += samples.get((f"{spec.name}_bucket", (*values, bound)), 0.0)
            buckets.append((bound, total))
        family.add_metric(list(values), buckets, samples.get((f"{spec.name}_sum", values), 0.0))
    return family


def _worker_families(snapshot: Snapshot, fleet: Fleet) -> Iterator[Metric]:
    for name, spec in WORKER_GAUGES.items():
        family = GaugeMetricFamily(spec.name, spec.help, labels=spec.labels)
        for worker in snapshot.workers:
            if name in worker.values:
                family.add_metric([worker.model, worker.node, worker.device], worker.values[name])
        yield family
    alive = Counter(worker.model for worker in snapshot.workers)
    workers = GaugeMetricFamily(WORKERS.name, WORKERS.help, labels=WORKERS.labels)
    for model in sorted(set(fleet.models) | set(alive)):
        workers.add_metric([model], alive[model])
    yield workers


def registry(client: redis.Redis, fleet: Fleet, suffixes: Sequence[str]) -> CollectorRegistry:
    """A registry holding only the fleet's metrics (not this exporter's own process)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(FleetCollector(client, fleet, suffixes))
    return registry


def serve(settings: Settings, address: str, port: int) -> None:
    """Serve the fleet's metrics on ``http://address:port/metrics`` until interrupted."""
    fleet = load_fleet(settings.fleet)
    client = broker_client(settings)
    try:
        _, thread = start_http_server(port, addr=address, registry=registry(client, fleet, PRIORITY_SUFFIXES))
    except OSError as exc:
        raise ConfigError(f"Cannot serve metrics on {address}:{port}: {exc.strerror}; pass a free --port.") from None
    log.info("Serving fleet metrics for %s on http://%s:%d/metrics", ", ".join(fleet.models), address, port)
    thread.join()
