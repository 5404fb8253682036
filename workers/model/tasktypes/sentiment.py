"""sentiment: a label among positive/negative/neutral, scored by the model's own probabilities.

The label is not generated but chosen: each label's log-likelihood as the answer, normalised over
the three. The output is valid by construction and costs one forward pass, not a generation.
"""

from typing import Any

from slmq.errors import SlmqError
from slmq.schemas import SENTIMENT, SentimentRequest, SentimentResult
from workers.model.runner import ModelRunner
from workers.model.tasktypes.base import DEFAULT_REASKS, Answered, Join, OnAnswer, Outcome, TaskType

LABELS = ("positive", "negative", "neutral")
INSTRUCTION = "Classify the sentiment of the user's text. Answer with one word: positive, negative or neutral."


class SentimentTask(TaskType[SentimentRequest, SentimentResult]):
    spec = SENTIMENT

    def prompt(self) -> dict[str, Any]:
        return {"instruction": INSTRUCTION, "labels": LABELS}

    def run(
        self,
        runner: ModelRunner,
        requests: list[SentimentRequest],
        max_new_tokens: int,
        *,
        constrained: bool = True,
        reasks: int = DEFAULT_REASKS,
        copy_spans: bool = True,
        on_answer: OnAnswer | None = None,
        join: Join | None = None,
    ) -> list[Outcome]:
        # Valid by construction: no constraint to turn off, nothing to re-ask; one forward pass, nothing joins it.
        conversations = [
            [{"role": "system", "content": INSTRUCTION}, {"role": "user", "content": request.text}]
            for request in requests
        ]
        return [_result(scores) for scores in runner.choose(conversations, LABELS)]


def _result(scores: dict[str, float] | SlmqError) -> Outcome:
    if isinstance(scores, SlmqError):
        return scores
    label = max(scores, key=scores.__getitem__)
    return Answered(SentimentResult(label=label, score=round(scores[label], 6)))  # type: ignore[arg-type]
