"""What every task type does: turn requests into prompts, run them as one batch, parse each output."""

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic

from pydantic import ValidationError

from slmq.errors import OutputValidationError, SlmqError
from slmq.schemas import RequestT, ResultT, TaskTypeSpec
from workers.model.grammar import Constraint
from workers.model.runner import Generation, Messages, ModelRunner


@dataclass(frozen=True)
class Answered(Generic[ResultT]):
    """A task's valid result, and how many further attempts it took (re-asks or larger budgets; 0: the first)."""

    result: ResultT
    retries: int = 0


Outcome = Answered[Any] | SlmqError  # what the model side answers one request with
OnAnswer = Callable[[int, Answered[Any]], None]  # a request's index in its batch and its final, valid result
Join = Callable[[int], list[Any]]  # up to that many requests that join the running batch (see TaskType.run)
DEFAULT_REASKS = 1  # fleet.toml's [tasks.<type>] reasks: further attempts after an invalid or cut-off output
MAX_ERRORS = 8  # validation errors kept per output (and shown to the model when it is re-asked)
PROMPT_PROBE = "{note}"  # the request text a prompt is rendered with for its fingerprint


class TaskType(ABC, Generic[RequestT, ResultT]):
    """A task type on the worker side, over its request and result models; one instance serves every message
    of that type. ``spec`` is the contract's (``slmq.schemas``): the one registry both sides share."""

    spec: TaskTypeSpec[RequestT, ResultT]

    @property
    def name(self) -> str:
        return self.spec.name

    @abstractmethod
    def prompt(self) -> dict[str, Any]:
        """What this task type asks the model, as data: its prompt version is a fingerprint of it and the schema."""

    @abstractmethod
    def run(
        self,
        runner: ModelRunner,
        requests: list[RequestT],
        max_new_tokens: int,
        *,
        constrained: bool = True,
        reasks: int = DEFAULT_REASKS,
        copy_spans: bool = True,
        on_answer: OnAnswer | None = None,
        join: Join | None = None,
    ) -> list[Outcome]:
        """One outcome per request, in order: a result, or the typed error of that request alone.

        ``constrained`` generates structured outputs against their JSON schema; ``reasks`` bounds the further
        attempts after an output fails validation (a re-ask showing the errors, or a larger budget if cut off);
        ``copy_spans`` also holds constrained string values to verbatim spans of the request, where the task
        type's contract says values are copied. ``on_answer`` may be told a request's valid result as soon as it
        is known, before the others are (it is in the list returned too). ``join(room)``, where the task type can
        take requests into a running batch, is asked for up to ``room`` more while there is room: those are
        numbered after ``requests`` in the order they joined, and their outcomes returned after theirs.
        """


class GenerativeTaskType(TaskType[RequestT, ResultT]):
    """A task type answered by generation, then validated into its output schema, re-asked when invalid."""

    def output_schema(self) -> dict[str, Any] | None:
        """The JSON schema outputs are generated against (constrained decoding); None for free text."""
        return None

    def copy_source(self, request: RequestT) -> str | None:
        """The text every string value of the output is a verbatim span of, where the contract says so."""
        return None

    @abstractmethod
    def messages(self, request: RequestT) -> Messages:
        """The chat messages that ask the model for this request's output."""

    def prompt(self) -> dict[str, Any]:
        probe = self.spec.request.model_validate({"text": PROMPT_PROBE})
        return {"messages": self.messages(probe), "output_schema": self.output_schema()}

    @abstractmethod
    def parse(self, text: str, request: RequestT) -> ResultT:
        """The typed result in ``text``; raises ValueError or ValidationError when there is none."""

    def annotate(self, result: ResultT, generation: Generation) -> ResultT:
        """``result`` with what the generation tells beside it (per-field confidence, where the type has it)."""
        return result

    def run(
        self,
        runner: ModelRunner,
        requests: list[RequestT],
        max_new_tokens: int,
        *,
        constrained: bool = True,
        reasks: int = DEFAULT_REASKS,
        copy_spans: bool = True,
        on_answer: OnAnswer | None = None,
        join: Join | None = None,
    ) -> list[Outcome]:
        """Generated in one batched call, then the invalid outputs again in one call per further attempt; each
        valid result goes to ``on_answer`` as its row finishes (at once, on the native engine). Requests ``join``
        gives are generated in the first call (on the native engine, which asks as rows free up) until an output
        is to be tried again (so it does not wait for a stream of arrivals to end), and tried again with the others."""
        schema = self.output_schema() if constrained else None
        requests = list(requests)  # joined requests are added
        conversations = [self.messages(request) for request in requests]
        outcomes: dict[int, Outcome] = {}
        cut_off: set[int] = set()
        retrying = False  # an output of the first call is to be tried again: it takes no more requests

        def attempt(rows: list[int], budget: int, number: int, join: Join | None = None) -> None:
            def judge(position: int, generation: Generation) -> None:
                nonlocal retrying
                index = rows[position]
                outcome = outcomes[index] = self._outcome(generation, requests[index], number)
                (cut_off.add if generation.truncated else cut_off.discard)(index)
                retrying |= reasks > 0 and isinstance(outcome, OutputValidationError)
                if on_answer is not None and isinstance(outcome, Answered):
                    on_answer(index, outcome)

            def more(room: int) -> tuple[list[Messages], Constraint | None]:
                assert join is not None
                if retrying:
                    return [], None
                joined, first = join(room), len(requests)
                rows.extend(range(first, first + len(joined)))
                requests.extend(joined)
                conversations.extend(self.messages(request) for request in joined)
                return conversations[first:], self._constraint(runner, schema, joined, copy_spans)

            constraint = self._constraint(runner, schema, [requests[i] for i in rows], copy_spans)
            asked = [conversations[i] for i in rows]
            generations = runner.generate(asked, budget, constraint, judge, more=more if join is not None else None)
            for index, generation in zip(rows, generations, strict=True):
                if isinstance(generation, SlmqError) and index not in outcomes:  # a later try keeps its last error
                    outcomes[index] = generation

        attempt(list(range(len(requests))), max_new_tokens, 0, join)
        pending, budget = list(range(len(requests))), max_new_tokens
        for number in range(1, reasks + 1):
            failed = [i for i in pending if isinstance(outcomes[i], OutputValidationError)]
            pending, budget = self._next_attempt(runner, failed, cut_off, outcomes, conversations, budget)
            if not pending:
                break
            attempt(pending, budget, number)  # every item of the batch that failed, all in one batched call
        return [outcomes[index] for index in range(len(requests))]

    def _constraint(
        self, runner: ModelRunner, schema: dict[str, Any] | None, requests: list[RequestT], copy_spans: bool
    ) -> Constraint | None:
        """The schema's grammar for these rows, holding their values to spans of their sources where copied."""
        if schema is None:
            return None
        sources = [self.copy_source(request) for request in requests] if copy_spans else []
        copy_from = [source for source in sources if source is not None]
        return runner.json_constraint(schema, copy_from if sources and len(copy_from) == len(sources) else None)

    def _next_attempt(
        self,
        runner: ModelRunner,
        failed: list[int],
        cut_off: set[int],
        outcomes: dict[int, Outcome],
        conversations: list[Messages],
        budget: int,
    ) -> tuple[list[int], int]:
        """Which failed items try again, and the budget: larger when an output was cut off, else the same.

        A cut-off output is retried as it was asked, with twice the budget (capped by the context_limit); an
        invalid one is re-asked: the model sees its own output and what is wrong with it.
        """
        wanted = budget * 2 if cut_off.intersection(failed) else budget
        retry: list[int] = []
        for index in failed:
            error = outcomes[index]
            assert isinstance(error, OutputValidationError)
            if index in cut_off:
                if runner.budget([conversations[index]], wanted) > budget:
                    retry.append(index)
                continue
            conversations[index] = conversations[index] + self.reask(error)
            retry.append(index)
        retry = [i for i in retry if runner.budget([conversations[i]], wanted) > 0]  # a re-ask may not fit at all
        if not retry:
            return [], budget
        call_budget = runner.budget([conversations[i] for i in retry], wanted)
        if call_budget <= budget:  # a long re-ask prompt leaves no room to grow: cut-off items cannot gain
            retry = [i for i in retry if i not in cut_off]
        return (retry, call_budget) if retry and call_budget > 0 else ([], budget)

    def reask(self, error: OutputValidationError) -> Messages:
        """The turns that show the model its invalid output and what is wrong with it."""
        problems = "; ".join(error.errors)
        return [
            {"role": "assistant", "content": error.raw_output},
            {
                "role": "user",
                "content": f"That answer is not valid: {problems}. Write the whole answer again, corrected.",
            },
        ]

    def _outcome(self, generation: Generation | SlmqError, request: RequestT, attempt: int = 0) -> Outcome:
        if isinstance(generation, SlmqError):
            return generation
        try:
            result = self.parse(generation.text, request)
        except (ValueError, ValidationError) as exc:
            errors = error_lines(exc)
            cause = errors[0]
            if generation.truncated:
                cause += f" (generation stopped at max_new_tokens={generation.new_tokens})"
            tries = f" after {attempt + 1} attempts" if attempt else ""
            return OutputValidationError(
                f"The model's output is not a valid {self.name} result{tries}: {cause}.",
                raw_output=generation.text,
                errors=[*errors, *([f"cut off at {generation.new_tokens} tokens"] if generation.truncated else [])],
            )
        return Answered(self.annotate(result, generation), attempt)


def error_lines(exc: Exception) -> list[str]:
    if isinstance(exc, ValidationError):
        return [f"{'.'.join(map(str, e['loc'])) or 'output'}: {e['msg']}" for e in exc.errors()[:MAX_ERRORS]]
    return [str(exc).splitlines()[0] if str(exc) else type(exc).__name__]
