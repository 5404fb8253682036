"""summarize: a summary of at most ``max_words`` words."""

from pydantic import BaseModel

from slmq.schemas import SummarizeRequest, SummaryResult
from workers.model.runner import Messages
from workers.model.tasktypes.base import GenerativeTaskType


class SummarizeTask(GenerativeTaskType):
    name = "summarize"

    def messages(self, request: BaseModel) -> Messages:
        assert isinstance(request, SummarizeRequest)
        instruction = f"Summarise the user's text in at most {request.max_words} words. Answer with the summary only."
        return [{"role": "system", "content": instruction}, {"role": "user", "content": request.text}]

    def parse(self, text: str, request: BaseModel) -> BaseModel:
        assert isinstance(request, SummarizeRequest)
        return SummaryResult(summary=" ".join(text.split()[: request.max_words]))
