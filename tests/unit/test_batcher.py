"""The batcher's rules on a clock the test moves: when a batch runs, how long a partial one waits, what a
message that no task may parse gets, and how a batch goes back to its queue. The model call is replaced
(each task answered with its own id); Celery's consumer by the two things the batcher takes from it."""

import threading
import time
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any, ClassVar

import pytest
import redis
from celery.worker import state as worker_state
from kombu.asynchronous import Hub

from slmq.errors import ConfigError, InferenceError, InvalidPayloadError, PayloadTooLargeError
from slmq.fleet import load_fleet
from slmq.schemas import GeneralResult
from tests.conftest import REPO
from tests.unit.fakes import FakeConsumer, FakeRequest, MemoryLedger, ids
from workers.batcher import MAX_EXTENSIONS, Batcher
from workers.delivery import Calls, DeliveryGuard, Finish
from workers.model.tasktypes import TASK_TYPES, Answered, OnAnswer, Outcome
from workers.watchdog import Watchdog

WAIT_S = 0.125  # max_wait_ms = 125: a binary fraction, so sums of waits are exact


class AnsweringBatcher(Batcher):
    """The batcher with its model call replaced: each task answered with its own id, each call recorded."""

    def __init__(
        self,
        consumer: FakeConsumer,
        delivery: DeliveryGuard | None = None,
        max_batch: int = 3,
        waiting: Callable[[], int] | None = None,
        meter: Any = None,
    ) -> None:
        spec = SimpleNamespace(name="smollm2", max_batch=max_batch, max_wait_ms=int(WAIT_S * 1000))
        runner: Any = SimpleNamespace(spec=spec)
        super().__init__(runner, None, 1_000, delivery, waiting=waiting, meter=meter)  # type: ignore[arg-type]
        self.asked: list[list[str]] = []
        self.early: list[str] = []  # task ids the model call knows the answer of before it ends, in that order
        self.install(consumer)

    def answer(self, calls: Calls, early: Finish | None = None) -> dict[str, Outcome]:
        self.asked.append(list(calls))
        for task_id in self.early:
            if task_id in calls and early is not None:
                early({task_id: answer(task_id)})
        return {task_id: answer(task_id) for task_id in calls}


def answer(task_id: str) -> Answered[GeneralResult]:
    return Answered(GeneralResult(answer=f"model: {task_id}"))


def add(batcher: Batcher, *requests: Any) -> None:
    for request in requests:
        batcher.add(request if isinstance(request, FakeRequest) else FakeRequest(request))


def test_a_full_batch_runs_at_once_in_one_model_call_and_each_message_is_answered_once() -> None:
    consumer = FakeConsumer()
    batcher = AnsweringBatcher(consumer, max_batch=3)
    add(batcher, "a", "b", "c")
    assert batcher.asked == [["a", "b", "c"]]
    assert consumer.executed == ["a", "b", "c"]
    assert consumer.timer.pending == 0  # the partial batch's deadline was cancelled
    assert all(batcher.waited(task_id) > 0 for task_id in "abc")  # what a job line's provenance records
    assert [batcher.take(task_id) for task_id in "abc"] == [answer("a"), answer("b"), answer("c")]
    assert batcher.arrivals == {} and batcher.waited("a") == 0.0  # answered: nothing of them is kept


def test_a_partial_batch_waits_max_wait_ms_from_its_first_message_then_runs() -> None:
    consumer = FakeConsumer()
    batcher = AnsweringBatcher(consumer, max_batch=3)
    add(batcher, "a")
    consumer.timer.advance(WAIT_S / 2)
    add(batcher, "b")  # joins the batch of the first; the wait still counts from the first
    consumer.timer.advance(WAIT_S / 2 - 0.001)
    assert batcher.asked == [] and consumer.executed == []
    consumer.timer.advance(0.001)
    assert batcher.asked == [["a", "b"]] and consumer.executed == ["a", "b"]


def test_the_wait_is_extended_while_the_broker_holds_more_messages_but_at_most_max_extensions_times() -> None:
    consumer = FakeConsumer()
    # messages stay queued (slower to arrive than the timer) the whole time
    batcher = AnsweringBatcher(consumer, max_batch=16, waiting=lambda: 5)
    add(batcher, "a")
    consumer.timer.advance(WAIT_S * (1 + MAX_EXTENSIONS) - 0.001)
    assert batcher.asked == []
    consumer.timer.advance(0.001)
    assert batcher.asked == [["a"]]
    add(batcher, "b")  # the next batch starts with no extension used
    consumer.timer.advance(WAIT_S * (1 + MAX_EXTENSIONS) - 0.001)
    assert batcher.asked == [["a"]]


def test_the_wait_ends_at_the_first_deadline_that_finds_the_broker_empty() -> None:
    consumer = FakeConsumer()
    depths = iter([2, 0])
    batcher = AnsweringBatcher(consumer, max_batch=16, waiting=lambda: next(depths))
    add(batcher, "a")
    consumer.timer.advance(WAIT_S)
    assert batcher.asked == []  # two messages were still queued: one more wait
    consumer.timer.advance(WAIT_S)
    assert batcher.asked == [["a"]]


def test_a_queue_depth_that_cannot_be_read_runs_the_batch_as_it_is() -> None:
    consumer = FakeConsumer()

    def unreachable() -> int:
        raise redis.ConnectionError("Connection refused")

    batcher = AnsweringBatcher(consumer, max_batch=16, waiting=unreachable)
    add(batcher, "a")
    consumer.timer.advance(WAIT_S)
    assert batcher.asked == [["a"]] and consumer.executed == ["a"]


def test_a_task_of_no_model_runs_at_once_outside_any_batch() -> None:
    consumer = FakeConsumer()
    batcher = AnsweringBatcher(consumer)
    add(batcher, FakeRequest("p", name="slmq.ping"))
    assert consumer.executed == ["p"] and batcher.asked == [] and consumer.timer.pending == 0


def test_messages_no_task_may_parse_get_their_errors_and_their_batch_mates_their_answers() -> None:
    consumer = FakeConsumer()
    batcher = AnsweringBatcher(consumer, max_batch=4)
    add(batcher, FakeRequest("positional", args=(1,)), FakeRequest("big", kwargs={"payload": {"text": "x" * 2_000}}))
    add(batcher, FakeRequest("extra", kwargs={"payload": {"text": "x"}, "priority": 1}), "a")
    assert batcher.asked == [["a"]]
    assert consumer.executed == ["positional", "big", "extra", "a"]
    positional, big, extra = batcher.take("positional"), batcher.take("big"), batcher.take("extra")
    assert isinstance(positional, InvalidPayloadError) and "exactly one keyword argument" in str(positional)
    assert isinstance(extra, InvalidPayloadError) and "['payload', 'priority']" in str(extra)
    assert isinstance(big, PayloadTooLargeError) and "the limit is 1,000" in str(big)
    assert batcher.take("a") == answer("a")


def test_a_task_id_sent_twice_in_one_batch_is_answered_twice_with_the_same_answer() -> None:
    consumer = FakeConsumer()
    batcher = AnsweringBatcher(consumer, max_batch=3)
    add(batcher, "a", "a", "b")
    assert batcher.asked == [["a", "b"]] and consumer.executed == ["a", "a", "b"]
    assert batcher.take("a") == answer("a") and batcher.take("a") == answer("a")
    assert batcher.take("a") is None  # both copies took theirs: nothing is kept


def test_reset_drops_the_buffer_and_its_deadline_so_nothing_runs_later() -> None:
    consumer = FakeConsumer()
    batcher = AnsweringBatcher(consumer, max_batch=3)
    add(batcher, "a", "b")
    batcher.reset()  # the consumer stopped: Redis re-delivers the unacked messages
    consumer.timer.advance(WAIT_S * 20)
    assert batcher.asked == [] and consumer.executed == [] and batcher.buffer == [] and batcher.arrivals == {}


def test_a_batch_whose_ledger_cannot_be_read_goes_back_to_the_queue_unanswered() -> None:
    consumer = FakeConsumer()
    guard = DeliveryGuard(MemoryLedger(failed_reads=3), Watchdog(60, 120), sleep=lambda _: None)
    batcher = AnsweringBatcher(consumer, guard, max_batch=2)
    requests = [FakeRequest("a"), FakeRequest("b")]
    add(batcher, *requests)
    assert batcher.asked == [] and consumer.executed == []
    assert all(request.rejected for request in requests) and batcher.arrivals == {}


def test_a_batch_that_fails_outside_the_model_puts_what_it_did_not_answer_back_on_the_queue() -> None:
    # Given a batch whose first result is stored early, and then a bug in the batcher's own work (not the model's)
    consumer = FakeConsumer()
    batcher = AnsweringBatcher(consumer, DeliveryGuard(MemoryLedger(), Watchdog(60, 120)), max_batch=2)
    batcher.early = ["a"]
    answered = batcher.answer

    def buggy(calls: Calls, early: Finish | None = None) -> dict[str, Outcome]:
        answered(calls, early)
        raise KeyError("a bug")

    batcher.answer = buggy  # type: ignore[method-assign]
    requests = [FakeRequest("a"), FakeRequest("b")]
    # When the batch runs
    add(batcher, *requests)
    # Then the stored one stays answered, the other goes back to its queue, and the batcher takes the next batch
    assert consumer.executed == ["a"] and [request.rejected for request in requests] == [False, True]
    batcher.answer = answered  # type: ignore[method-assign]
    add(batcher, "c", "d")
    assert consumer.executed == ["a", "c", "d"] and batcher.buffer == []


class CountingMeter:
    """The meter's calls, recorded: each batch's size, and which tasks were counted answered, with an arrival
    time for their latency."""

    def __init__(self) -> None:
        self.batches: list[int] = []
        self.counted: list[tuple[list[str], list[str]]] = []

    def batch(self, size: int, seconds: float) -> None:
        self.batches.append(size)

    def answered(self, names: dict[str, str], outcomes: dict[str, Outcome], arrivals: Any) -> None:
        self.counted.append((sorted(names), sorted(arrivals)))


def test_a_suspect_runs_alone_after_its_fresh_batch_mates_which_are_answered_before_it_starts() -> None:
    consumer = FakeConsumer()
    consumer.on_task_request = lambda request: (consumer.executed.append(request.id), batcher.take(request.id))
    ledger = MemoryLedger()
    ledger.attempts = {"b": 1}  # started once before, by a worker lost with it in hand
    meter = CountingMeter()
    batcher = AnsweringBatcher(consumer, DeliveryGuard(ledger, Watchdog(60, 120)), max_batch=3, meter=meter)
    answered_when_b_ran: list[list[str]] = []
    model_answer = batcher.answer

    def answer_recording(calls: Calls, early: Finish | None = None) -> dict[str, Outcome]:
        if "b" in calls:
            answered_when_b_ran.append(list(consumer.executed))
        return model_answer(calls, early)

    batcher.answer = answer_recording  # type: ignore[method-assign]
    add(batcher, "a", "b", "c")
    assert batcher.asked == [["a", "c"], ["b"]]
    assert answered_when_b_ran == [["a", "c"]]  # stored and acked before the suspect could take them down
    assert consumer.executed == ["a", "c", "b"]
    assert ledger.attempts == {"a": 1, "b": 2, "c": 1}
    # And the batch was counted once, and every task with its latency as it was answered (at the batch's end, none
    # was left: that write carries the batch's own figures)
    assert meter.batches == [3] and meter.counted == [(["a", "c"], ["a", "c"]), (["b"], ["b"]), ([], [])]
    assert batcher.arrivals == {}


def test_a_result_the_model_knows_before_its_batch_ends_is_stored_and_counted_at_once() -> None:
    # Given a batch of three whose model call knows c's answer, then a's, before it ends
    consumer = FakeConsumer()
    consumer.on_task_request = lambda request: (consumer.executed.append(request.id), batcher.take(request.id))
    meter = CountingMeter()
    batcher = AnsweringBatcher(consumer, DeliveryGuard(MemoryLedger(), Watchdog(60, 120)), max_batch=3, meter=meter)
    batcher.early = ["c", "a"]
    # When it runs, then c and a are executed (stored and acked) as they are known, b when the batch ends
    add(batcher, "a", "b", "c")
    assert consumer.executed == ["c", "a", "b"] and batcher.asked == [["a", "b", "c"]]
    # each counted once, with its latency, before it was stored; the batch once
    assert meter.counted == [(["c"], ["c"]), (["a"], ["a"]), (["b"], ["b"])] and meter.batches == [3]
    assert batcher.outcomes == {} and batcher.arrivals == {}  # every outcome taken by its own request


class AnswersOneThenFails:
    """The general task type with its model call replaced: it answers the second request early, then fails."""

    spec = TASK_TYPES["general"].spec

    def run(self, runner: Any, requests: list[Any], max_new_tokens: int, *, on_answer: OnAnswer, **_: Any) -> Any:
        on_answer(1, answer(requests[1].text))
        raise RuntimeError("out of memory")


def test_a_model_failure_after_a_result_was_answered_fails_only_the_tasks_still_unanswered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a batch of three general tasks (the batcher's own answer, through the delivery guard) whose model call
    # answers b, then fails
    monkeypatch.setitem(TASK_TYPES, "general", AnswersOneThenFails())
    fleet = load_fleet(REPO / "fleet.toml")
    consumer = FakeConsumer()
    consumer.on_task_request = lambda request: outcomes.append((request.id, batcher.take(request.id)))
    outcomes: list[tuple[str, Outcome | None]] = []
    runner: Any = SimpleNamespace(spec=fleet.model("smollm2").model_copy(update={"max_batch": 3}))
    meter: Any = CountingMeter()
    batcher = Batcher(runner, fleet, 1_000, DeliveryGuard(MemoryLedger(), Watchdog(60, 120)), meter=meter)
    batcher.install(consumer)
    # When it runs
    add(batcher, "a", "b", "c")
    # Then b keeps the answer stored as it was known, and only a and c get the model's failure, typed
    assert outcomes[0] == ("b", answer("b"))
    assert [task_id for task_id, _ in outcomes[1:]] == ["a", "c"]
    for _, failed in outcomes[1:]:
        assert isinstance(failed, InferenceError) and "out of memory" in str(failed)
    assert meter.counted == [(["b"], ["b"]), (["a", "c"], ["a", "c"])] and meter.batches == [3]


class JoinsOnce:
    """A task type with its model call replaced: the first call, while it runs, has ``arriving`` delivered to the
    batcher (as the event loop delivers messages during a batch), then asks once for up to ``room`` requests to join
    it; every request is answered with its own text."""

    calls = 0
    room = 3
    arriving: ClassVar[list[FakeRequest]] = []
    deliver: ClassVar[Callable[[FakeRequest], None]] = staticmethod(lambda request: None)

    def __init__(self, name: str) -> None:
        self.spec = TASK_TYPES[name].spec

    def run(self, runner: Any, requests: list[Any], max_new_tokens: int, *, join: Any, **_: Any) -> Any:
        JoinsOnce.calls += 1
        joined = []
        if JoinsOnce.calls == 1:
            for request in JoinsOnce.arriving:
                JoinsOnce.deliver(request)
            joined = join(JoinsOnce.room) if join is not None else []
        return [answer(request.text) for request in [*requests, *joined]]


def joining_batcher(
    monkeypatch: pytest.MonkeyPatch,
    arriving: list[FakeRequest],
    ledger: MemoryLedger,
    join: bool = True,
    consumer: FakeConsumer | None = None,
) -> tuple[Batcher, list[tuple[str, Outcome | None]]]:
    """A batcher of two whose model call has ``arriving`` delivered, then asks once for more (fleet.toml's ``join``
    allowing); and what ran."""
    for name in ("general", "summarize"):
        monkeypatch.setitem(TASK_TYPES, name, JoinsOnce(name))
    monkeypatch.setattr(JoinsOnce, "calls", 0)
    monkeypatch.setattr(JoinsOnce, "arriving", arriving)
    fleet = load_fleet(REPO / "fleet.toml")
    consumer = consumer or FakeConsumer()
    executed: list[tuple[str, Outcome | None]] = []
    consumer.on_task_request = lambda request: executed.append((request.id, batcher.take(request.id)))
    runner: Any = SimpleNamespace(spec=fleet.model("smollm2").model_copy(update={"max_batch": 2, "join": join}))
    batcher = Batcher(runner, fleet, 1_000, DeliveryGuard(ledger, Watchdog(60, 120)))
    batcher.install(consumer)
    monkeypatch.setattr(JoinsOnce, "deliver", staticmethod(batcher.add))
    return batcher, executed


def test_messages_delivered_while_a_batch_runs_join_it_and_the_others_wait_for_the_next_batch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given, delivered while a batch runs: a fresh message, one no task may parse, a summary, a suspect, two more
    arriving = [FakeRequest("c"), FakeRequest("bad", args=(1,)), FakeRequest("s", name="slmq.summarize")]
    arriving += [FakeRequest("suspect"), FakeRequest("e"), FakeRequest("f")]
    ledger = MemoryLedger()
    ledger.attempts["suspect"] = 1
    batcher, executed = joining_batcher(monkeypatch, arriving, ledger)
    # When a batch of two general tasks runs and asks for three more
    add(batcher, "a", "b")
    # Then the one no task may parse was answered at once, and the fresh ones among the first three joined the batch
    assert [task_id for task_id, _ in executed] == ["bad", "a", "b", "c", "e"]
    assert isinstance(executed[0][1], InvalidPayloadError)
    assert executed[1:] == [(task_id, answer(task_id)) for task_id in "abce"]
    assert ledger.attempts == {"a": 1, "b": 1, "c": 1, "e": 1, "suspect": 1}
    # And the summary, the suspect and the one there was no room for waited for the next batch, the suspect alone
    assert ids(batcher.buffer) == ["s", "suspect", "f"] and batcher._timer.pending == 1
    batcher._timer.advance(WAIT_S)
    assert executed[5:] == [("s", answer("s")), ("f", answer("f")), ("suspect", answer("suspect"))]
    assert ledger.attempts["suspect"] == 2 and batcher.arrivals == {}


@pytest.mark.parametrize("why", ["told to stop", "join = false"])
def test_a_batch_takes_no_more_once_its_worker_is_told_to_stop_or_where_the_fleet_says_so(
    monkeypatch: pytest.MonkeyPatch, why: str
) -> None:
    batcher, executed = joining_batcher(monkeypatch, [FakeRequest("c")], MemoryLedger(), why == "told to stop")
    if why == "told to stop":
        monkeypatch.setattr(worker_state, "should_stop", 0)  # SIGTERM: a warm shutdown
    add(batcher, "a", "b")
    assert executed == [("a", answer("a")), ("b", answer("b"))] and ids(batcher.buffer) == ["c"]


class LoopThread:
    """kombu's event loop (the hub Celery's consumer runs) on a thread of its own, standing in for the worker's main
    thread; ``call`` runs a function there and waits for it."""

    def __init__(self) -> None:
        self.hub: Any = Hub()  # untyped upstream
        self.thread = threading.Thread(target=self.hub.run_forever, name="event-loop", daemon=True)
        self.thread.start()

    def call(self, function: Callable[[], Any]) -> None:
        ran = threading.Event()

        def run() -> None:
            try:
                function()
            finally:
                ran.set()

        self.hub.call_soon(run)
        assert ran.wait(5), "the event loop did not run it within 5 s"

    def stop(self) -> None:
        self.hub.stop()
        self.thread.join(5)


class Blocking:
    """A task type whose model call waits until released, then joins what was delivered meanwhile; each request is
    answered with its own text, and each call records the thread it ran on."""

    def __init__(self) -> None:
        self.spec = TASK_TYPES["general"].spec
        self.started = threading.Event()
        self.release = threading.Event()
        self.threads: list[str] = []

    def run(self, runner: Any, requests: list[Any], max_new_tokens: int, *, join: Any, **_: Any) -> Any:
        self.threads.append(threading.current_thread().name)
        self.started.set()
        assert self.release.wait(5)
        joined = join(4) if join is not None else []
        return [answer(request.text) for request in [*requests, *joined]]


@pytest.fixture
def loop() -> Iterator[LoopThread]:
    loop = LoopThread()
    yield loop
    loop.stop()


def threaded_batcher(
    monkeypatch: pytest.MonkeyPatch, loop: LoopThread
) -> tuple[Batcher, Blocking, list[tuple[str, Outcome | None, str]]]:
    """A batcher of two installed in a consumer with an event loop (``loop``), over a model that blocks; and what ran,
    on which thread."""
    model = Blocking()
    monkeypatch.setitem(TASK_TYPES, "general", model)
    fleet = load_fleet(REPO / "fleet.toml")
    consumer = FakeConsumer()
    consumer.hub = loop.hub  # type: ignore[attr-defined]
    executed: list[tuple[str, Outcome | None, str]] = []
    consumer.on_task_request = lambda r: executed.append((r.id, batcher.take(r.id), threading.current_thread().name))
    runner: Any = SimpleNamespace(spec=fleet.model("smollm2").model_copy(update={"max_batch": 2, "join": True}))
    batcher = Batcher(runner, fleet, 1_000, DeliveryGuard(MemoryLedger(), Watchdog(60, 120)))
    batcher.install(consumer)
    return batcher, model, executed


def test_a_batch_runs_on_the_model_thread_while_the_event_loop_goes_on_delivering_messages_that_join_it(
    monkeypatch: pytest.MonkeyPatch, loop: LoopThread
) -> None:
    batcher, model, executed = threaded_batcher(monkeypatch, loop)
    # Given a full batch, delivered on the event loop, running on the model
    loop.call(lambda: add(batcher, "a", "b"))
    assert model.started.wait(5)
    # When a message arrives while the model runs: the loop is free to deliver it
    loop.call(lambda: add(batcher, "c"))
    assert executed == []
    model.release.set()
    # Then it joins the batch; the model ran on its own thread, and each result was stored on the event loop's
    deadline = time.monotonic() + 5
    while len(executed) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert executed == [(task_id, answer(task_id), "event-loop") for task_id in "abc"]
    assert model.threads == ["slmq-model"] and batcher.buffer == [] and batcher.arrivals == {}


def test_a_consumer_that_stops_while_a_batch_runs_waits_for_it_and_stores_its_results_itself(
    monkeypatch: pytest.MonkeyPatch, loop: LoopThread
) -> None:
    batcher, model, executed = threaded_batcher(monkeypatch, loop)
    loop.call(lambda: add(batcher, "a", "b"))
    assert model.started.wait(5)
    # When the event loop stops (a warm shutdown) and the consumer stops its steps while the model still runs
    loop.stop()
    threading.Timer(0.2, model.release.set).start()
    batcher.stop()
    # Then the batch ended first, and its results were stored on the stopping thread
    current = threading.current_thread().name
    assert executed == [("a", answer("a"), current), ("b", answer("b"), current)]


def test_a_consumer_without_the_internal_the_batcher_replaces_is_refused_with_the_celery_release_to_install() -> None:
    consumer = FakeConsumer()
    del consumer.on_task_request
    with pytest.raises(ConfigError, match=r"has no on_task_request.*celery 5\.7"):
        AnsweringBatcher(consumer)


@pytest.mark.parametrize("found", ["5.6.3", "5.8.0"])
def test_a_celery_release_the_batcher_was_not_written_against_is_refused_at_install(found: str) -> None:
    batcher = Batcher(SimpleNamespace(spec=SimpleNamespace(max_batch=1, max_wait_ms=1)), None, 1_000)  # type: ignore[arg-type]
    consumer = FakeConsumer()
    with pytest.raises(ConfigError, match=f"celery>=5.7.0,<5.8 .* but celery {found} is installed"):
        batcher.install(consumer, {"celery": found}.__getitem__)
    assert consumer.on_task_request != batcher.add  # nothing was replaced
