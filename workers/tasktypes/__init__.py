"""Task types on the worker side: prompt, batched run and post-processing, one file each."""

from workers.tasktypes.base import Outcome, TaskType
from workers.tasktypes.delivery_note import DeliveryNoteTask
from workers.tasktypes.general import GeneralTask
from workers.tasktypes.refactor_python import RefactorPythonTask
from workers.tasktypes.sentiment import SentimentTask
from workers.tasktypes.summarize import SummarizeTask

TASK_TYPES: dict[str, TaskType] = {
    task.name: task
    for task in (DeliveryNoteTask(), SentimentTask(), SummarizeTask(), RefactorPythonTask(), GeneralTask())
}

__all__ = ["TASK_TYPES", "Outcome", "TaskType"]
