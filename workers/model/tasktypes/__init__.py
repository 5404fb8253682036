"""Task types on the worker side: prompt, batched run and post-processing, one file each."""

from typing import Any

from workers.model.tasktypes.base import Answered, Join, OnAnswer, Outcome, TaskType
from workers.model.tasktypes.delivery_note import DeliveryNoteTask
from workers.model.tasktypes.general import GeneralTask
from workers.model.tasktypes.refactor_python import RefactorPythonTask
from workers.model.tasktypes.sentiment import SentimentTask
from workers.model.tasktypes.summarize import SummarizeTask

TASK_TYPES: dict[str, TaskType[Any, Any]] = {
    task.name: task
    for task in (DeliveryNoteTask(), SentimentTask(), SummarizeTask(), RefactorPythonTask(), GeneralTask())
}

__all__ = ["TASK_TYPES", "Answered", "Join", "OnAnswer", "Outcome", "TaskType"]
