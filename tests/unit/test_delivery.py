"""The delivery guard's rules, with the ledger's Redis replaced by dicts: stored results, suspects, dead letters,
time limits, failing closed and one answer per task id."""

import time
from typing import Any

import pytest

from slmq.errors import DeadLetteredError, GenerationTimeoutError, OutputValidationError
from slmq.schemas import GeneralResult
from tests.unit.fakes import MemoryLedger
from workers.delivery import Calls, DeliveryGuard, Finish, LedgerUnavailableError
from workers.model.tasktypes import Answered, Outcome
from workers.watchdog import MIN_GENERATION_S, Watchdog

NAME = "slmq.general"


def calls(*task_ids: str) -> Calls:
    return {task_id: (NAME, {"payload": {"text": task_id}}) for task_id in task_ids}


class Model:
    """Answers each call with its own text and remembers what it was asked."""

    def __init__(self) -> None:
        self.asked: list[list[str]] = []

    def __call__(self, batch: Calls, early: Finish = lambda _: None) -> dict[str, Outcome]:
        self.asked.append(list(batch))
        return {task_id: Answered(GeneralResult(answer=f"model: {task_id}")) for task_id in batch}


def answered(text: str) -> Answered[GeneralResult]:
    return Answered(GeneralResult(answer=text))


def guard(ledger: MemoryLedger, sleeps: list[float]) -> DeliveryGuard:
    return DeliveryGuard(ledger, Watchdog(60, 120), sleep=sleeps.append)  # type: ignore[arg-type]


def ignore(_: dict[str, Any]) -> None:
    return None


def test_a_ledger_that_cannot_be_read_puts_the_batch_back_without_running_the_model() -> None:
    # Given a ledger Redis does not answer, three times in a row
    ledger, sleeps, model = MemoryLedger(failed_reads=3), [], Model()
    # When a batch is guarded, then it is refused as a whole, after two waits, and the model never runs
    with pytest.raises(LedgerUnavailableError, match="Cannot read the delivery records of 2 tasks"):
        guard(ledger, sleeps).answer(calls("a", "b"), model, ignore)
    assert model.asked == [] and ledger.attempts == {} and sleeps == [0.5, 1.0]


def test_a_ledger_read_that_fails_once_is_tried_again_and_the_batch_runs_counted() -> None:
    ledger, sleeps, model = MemoryLedger(failed_reads=1), [], Model()
    outcomes = guard(ledger, sleeps).answer(calls("a", "b"), model, ignore)
    assert outcomes == {"a": answered("model: a"), "b": answered("model: b")}
    assert model.asked == [["a", "b"]] and ledger.attempts == {"a": 1, "b": 1} and sleeps == [0.5]


def test_attempts_that_cannot_be_counted_put_the_batch_back_without_running_the_model() -> None:
    ledger, model = MemoryLedger(counting_fails=True), Model()
    with pytest.raises(LedgerUnavailableError, match="Cannot count the attempts of 2 tasks"):
        guard(ledger, []).answer(calls("a", "b"), model, ignore)
    assert model.asked == []


def test_an_answer_stored_by_another_worker_meanwhile_stands_over_this_workers_own() -> None:
    # Given a batch whose task "a" another worker answers and stores while this one computes it
    ledger = MemoryLedger()
    other = Answered(GeneralResult(answer="the other worker's"))

    def model(batch: Calls, early: Finish) -> dict[str, Outcome]:
        ledger.results["a"] = other
        return Model()(batch)

    # When the batch is answered, then "a" keeps the stored answer and "b" gets this worker's
    outcomes = guard(ledger, []).answer(calls("a", "b"), model, ignore)
    assert outcomes == {"a": other, "b": Answered(GeneralResult(answer="model: b"))}


def test_a_result_known_before_its_batch_ends_is_finished_at_once_unless_another_worker_stored_one(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given a model call that knows "a" and "b" before it ends, while another worker stores its answer to "b"
    ledger, finished = MemoryLedger(), []

    def store(known: dict[str, Outcome]) -> None:  # as Celery does when the batcher runs a finished request
        finished.append([*known.items()])
        ledger.results.update(known)

    other = Answered(GeneralResult(answer="the other worker's"))

    def model(batch: Calls, early: Finish) -> dict[str, Outcome]:
        early({"a": answered("early a")})
        ledger.results["b"] = other
        early({"b": answered("early b")})
        finished.append(["batch ends"])
        return {"a": answered("early a"), "b": answered("early b"), "c": answered("model: c")}

    # When the batch is answered, then "a" and "b" were finished while it ran, "b" with the stored answer
    outcomes = guard(ledger, []).answer(calls("a", "b", "c"), model, store)
    assert finished == [[("a", answered("early a"))], [("b", other)], ["batch ends"]]
    assert outcomes == {"a": answered("early a"), "b": other, "c": answered("model: c")}
    # And only b is reported as answered elsewhere: a result this worker stored early is not taken for another's
    assert [r.message for r in caplog.records if "another worker" in r.message] == [
        "1 task(s) were answered by another worker meanwhile; their stored answers stand"
    ]


def test_a_dead_letter_keeps_the_job_headers_of_its_message() -> None:
    # Given a batch whose model output never validates, for a job line
    ledger = MemoryLedger()
    headers = {"a": {"slmq_job": "job-1", "slmq_line": 7, "slmq_line_id": "n7"}}
    # When it is answered, then its dead letter carries the job headers, so a re-run records the job's line
    guard(ledger, []).answer(
        calls("a"), lambda batch, _: dict.fromkeys(batch, OutputValidationError("bad")), ignore, headers
    )
    delivery, error = ledger.letters["a"]
    assert delivery.headers == headers["a"] and isinstance(error, OutputValidationError)


def test_a_stored_result_is_the_answer_and_the_model_does_not_run_it() -> None:
    ledger, model = MemoryLedger(), Model()
    ledger.results["a"] = Answered(GeneralResult(answer="stored before"))
    outcomes = guard(ledger, []).answer(calls("a", "b"), model, ignore)
    assert outcomes["a"] == Answered(GeneralResult(answer="stored before")) and model.asked == [["b"]]
    assert ledger.attempts == {"b": 1}


def test_suspects_run_alone_after_the_fresh_batch_and_each_group_is_finished_before_the_next() -> None:
    # Given a batch with two fresh messages and two that were started before without an answer
    ledger, model = MemoryLedger(), Model()
    ledger.attempts.update({"s1": 1, "s2": 2})
    finished: list[list[str]] = []
    # When it is answered, then the fresh ones run together, each suspect alone, and every group is finished at once
    outcomes = guard(ledger, []).answer(
        calls("f1", "s1", "f2", "s2"), model, lambda known: finished.append(list(known))
    )
    assert model.asked == [["f1", "f2"], ["s1"], ["s2"]] == finished
    assert set(outcomes) == {"f1", "f2", "s1", "s2"} and ledger.attempts == {"f1": 1, "f2": 1, "s1": 2, "s2": 3}


def test_a_message_started_max_attempts_times_is_dead_lettered_without_running() -> None:
    ledger, model = MemoryLedger(), Model()
    ledger.attempts["poison"] = 3
    outcomes = guard(ledger, []).answer(calls("poison", "ok"), model, ignore)
    assert isinstance(outcomes["poison"], DeadLetteredError) and "SLMQ_MAX_ATTEMPTS=3" in outcomes["poison"].message
    assert model.asked == [["ok"]] and ledger.letters["poison"][0].task_id == "poison"


def test_messages_arriving_while_a_fresh_batch_runs_join_it_counted_and_suspects_wait_for_their_own() -> None:
    # Given a ledger that holds an answer to "stored", one start of "suspect" and three of "spent"
    ledger = MemoryLedger()
    ledger.results["stored"] = answered("stored before")
    ledger.attempts.update({"suspect": 1, "spent": 3})
    checked = guard(ledger, [])
    admitted: list[tuple[dict[str, Outcome], Calls]] = []

    def model(batch: Calls, early: Finish) -> dict[str, Outcome]:  # as the batcher's does: joined ones answered too
        settled, fresh = checked.admit(calls("new", "stored", "suspect", "spent"), {"new": {"slmq_job": "job-2"}})
        admitted.append((settled, fresh))
        return {**Model()(batch), **dict.fromkeys(fresh, OutputValidationError("bad"))}

    # When those four arrive while a batch of "a" runs
    outcomes = checked.answer(calls("a"), model, ignore)
    ((settled, fresh),) = admitted
    # Then the fresh one joins it, its attempt counted, and its outcome is the batch's, dead-lettered with its headers
    assert fresh == calls("new") and ledger.attempts["new"] == 1
    assert isinstance(outcomes["new"], OutputValidationError)
    assert ledger.letters["new"][0].headers == {"slmq_job": "job-2"}
    # And the stored answer and the dead letter are settled at once, while the suspect is left for a batch of its own
    assert settled["stored"] == answered("stored before") and isinstance(settled["spent"], DeadLetteredError)
    assert "suspect" not in settled and ledger.attempts["suspect"] == 1
    # And nothing joins outside a batch, or a suspect's
    assert checked.admit(calls("late"), {}) == ({}, {})
    ledger.attempts["s"] = 1

    def suspect(batch: Calls, early: Finish) -> dict[str, Outcome]:
        admitted.append(checked.admit(calls("x"), {}))
        return Model()(batch)

    checked.answer(calls("s"), suspect, ignore)
    assert admitted[-1] == ({}, {}) and "x" not in ledger.attempts


def test_a_batch_takes_no_more_messages_once_half_its_time_limit_is_spent() -> None:
    ledger = MemoryLedger()
    checked = DeliveryGuard(ledger, Watchdog(0.2, 60), sleep=[].append)  # type: ignore[arg-type]
    seen: list[tuple[bool, Calls]] = []

    def model(batch: Calls, early: Finish) -> dict[str, Outcome]:
        seen.append((checked.joinable(), checked.admit(calls("early"), {})[1]))
        time.sleep(0.11)
        seen.append((checked.joinable(), checked.admit(calls("late"), {})[1]))
        return Model()(batch)

    checked.answer(calls("a"), model, ignore)
    assert seen == [(True, calls("early")), (False, {})] and "late" not in ledger.attempts


def test_an_output_still_invalid_at_the_time_limit_is_a_generation_timeout() -> None:
    # Given a model call that runs the whole (tiny) time limit and ends with an invalid output
    def slow_invalid(batch: Calls, early: Finish) -> dict[str, Outcome]:
        time.sleep(0.06)
        return dict.fromkeys(batch, OutputValidationError("The output is not JSON."))

    ledger = MemoryLedger()
    timed = DeliveryGuard(ledger, Watchdog(0.05, 60), sleep=[].append)  # type: ignore[arg-type]
    # When it is answered, then the caller is told the time limit stopped it, and the dead letter says so
    (outcome,) = timed.answer(calls("a"), slow_invalid, ignore).values()
    assert isinstance(outcome, GenerationTimeoutError) and "SLMQ_TASK_TIME_LIMIT_S" in outcome.message
    assert isinstance(ledger.letters["a"][1], GenerationTimeoutError)


def test_the_watchdog_s_budget_is_shared_by_every_generation_of_a_guarded_call_and_none_outside_one() -> None:
    watchdog = Watchdog(0.2, 60)
    assert watchdog.time_budget() is None  # warm-up, or a call outside the delivery guard: no limit
    with watchdog.guard("a batch"):
        first = watchdog.time_budget()
        time.sleep(0.05)
        second = watchdog.time_budget()
        assert first is not None and second is not None and 0.2 >= first > second >= 0.1
        time.sleep(0.2)
        assert watchdog.time_budget() == MIN_GENERATION_S  # spent: a generation started now still gets a step
    assert watchdog.time_budget() is None


class ExitRecordingWatchdog(Watchdog):
    """The watchdog with its process exit at the hard limit recorded instead of taken."""

    def __init__(self, soft_s: float, hard_s: float) -> None:
        super().__init__(soft_s, hard_s)
        self.expired: list[str] = []

    def _expire(self, what: str) -> None:
        self.expired.append(what)


def test_work_set_aside_in_a_guarded_block_counts_against_neither_time_limit() -> None:
    watchdog = ExitRecordingWatchdog(1.0, 1.5)
    # Given a guarded block that spends longer than the hard limit storing results (Redis paused), aside
    with watchdog.guard("a batch"):
        time.sleep(0.1)
        with watchdog.aside():
            time.sleep(2.0)
        # Then the generation budget left is what the model work before it left, and the process was not ended
        left = watchdog.time_budget()
        assert left is not None and 0.5 < left <= 0.9
    assert watchdog.expired == []
    # And a block that spends that long on model work still reaches the hard limit
    with watchdog.guard("a stuck batch"):
        time.sleep(2.0)
    assert watchdog.expired == ["a stuck batch"]
