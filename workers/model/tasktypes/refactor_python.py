"""refactor_python: suggestions for a piece of Python, and the revised code when the model gives it."""

import re

from slmq.schemas import REFACTOR_PYTHON, RefactorRequest, RefactorResult
from workers.model.runner import Messages
from workers.model.tasktypes.base import GenerativeTaskType

INSTRUCTION = (
    "You review Python code. List concrete refactoring suggestions as short bullet points, then give "
    "the revised code in one ```python block."
)
_FENCE = re.compile(r"```(?:python|py)?\s*\n(.*?)(?:```|$)", re.DOTALL)
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")


class RefactorPythonTask(GenerativeTaskType[RefactorRequest, RefactorResult]):
    spec = REFACTOR_PYTHON

    def messages(self, request: RefactorRequest) -> Messages:
        ask = f"{request.instructions}\n\n" if request.instructions else ""
        return [
            {"role": "system", "content": INSTRUCTION},
            {"role": "user", "content": f"{ask}```python\n{request.text}\n```"},
        ]

    def parse(self, text: str, request: RefactorRequest) -> RefactorResult:
        fence = _FENCE.search(text)
        revised = fence.group(1).strip() if fence else None
        prose = _FENCE.sub("", text)
        suggestions = [_BULLET.sub("", line).strip() for line in prose.splitlines()]
        return RefactorResult(suggestions=[s for s in suggestions if s], revised_code=revised or None)
