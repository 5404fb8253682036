"""summarize: a summary of at most ``max_words`` words."""

from slmq.schemas import SUMMARIZE, SummarizeRequest, SummaryResult
from workers.model.runner import Messages
from workers.model.tasktypes.base import GenerativeTaskType


class SummarizeTask(GenerativeTaskType[SummarizeRequest, SummaryResult]):
    spec = SUMMARIZE

    def messages(self, request: SummarizeRequest) -> Messages:
        instruction = f"Summarise the user's text in at most {request.max_words} words. Answer with the summary only."
        return [{"role": "system", "content": instruction}, {"role": "user", "content": request.text}]

    def parse(self, text: str, request: SummarizeRequest) -> SummaryResult:
        return SummaryResult(summary=" ".join(text.split()[: request.max_words]))
