"""general: the fallback for general queries; the answer as the model writes it."""

from slmq.schemas import GENERAL, GeneralRequest, GeneralResult
from workers.model.runner import Messages
from workers.model.tasktypes.base import GenerativeTaskType

INSTRUCTION = "You are a concise, helpful assistant."


class GeneralTask(GenerativeTaskType[GeneralRequest, GeneralResult]):
    spec = GENERAL

    def messages(self, request: GeneralRequest) -> Messages:
        return [{"role": "system", "content": INSTRUCTION}, {"role": "user", "content": request.text}]

    def parse(self, text: str, request: GeneralRequest) -> GeneralResult:
        return GeneralResult(answer=text.strip())
