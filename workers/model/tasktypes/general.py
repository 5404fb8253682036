"""general: the fallback for general queries; the answer as the model writes it."""

from pydantic import BaseModel

from slmq.schemas import GeneralRequest, GeneralResult
from workers.model.runner import Messages
from workers.model.tasktypes.base import GenerativeTaskType

INSTRUCTION = "You are a concise, helpful assistant."


class GeneralTask(GenerativeTaskType):
    name = "general"

    def messages(self, request: BaseModel) -> Messages:
        assert isinstance(request, GeneralRequest)
        return [{"role": "system", "content": INSTRUCTION}, {"role": "user", "content": request.text}]

    def parse(self, text: str, request: BaseModel) -> BaseModel:
        return GeneralResult(answer=text.strip())
