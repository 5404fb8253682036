"""Dead letters: the messages a worker gave up on, per queue, with the reason, and how to run them again.

A worker writes one JSON record per task id into its queue's dead-letter hash when a message ran out of
attempts (its worker was lost each time) or the model failed it (an output that never validated, a
model error). ``retry`` re-publishes a message under its original task id and with its job headers, after
deleting the stored failure and the attempt counter, so a caller holding the task's handle gets the new
answer and a job line's new answer replaces its failure in the job.
"""

import json
from typing import Any

from celery import Celery
from pydantic import BaseModel, Field

from slmq.constants import DEAD_LETTER_KEY_PREFIX, attempts_key, dead_letter_key
from slmq.errors import DeadLetterNotFoundError
from slmq.fleet import Fleet
from slmq.stores.connections import app_client


class DeadLetter(BaseModel):
    """One dead-lettered message: what it was, why it was given up, and what the model wrote."""

    task_id: str
    task_name: str
    task_type: str | None = None
    queue: str
    kwargs: dict[str, Any]
    headers: dict[str, Any] = Field(default_factory=dict)  # a job line's headers: its re-run is recorded in the job
    reason: str
    attempts: int
    error_type: str
    error: str
    raw_output: str | None = None
    errors: list[str] | None = None
    dead_lettered_at: float


class DeadLetters:
    """List, show, retry and purge the dead-letter lists of a fleet's queues."""

    def __init__(self, app: Celery, fleet: Fleet | None = None) -> None:
        self.app = app
        self.fleet = fleet
        self.client = app_client(app)

    def queues(self, queue: str | None = None) -> list[str]:
        """``[queue]``, or every queue that has dead letters or is in the fleet."""
        if queue is not None:
            return [queue]
        found = {
            key.decode()[len(DEAD_LETTER_KEY_PREFIX) :] for key in self.client.scan_iter(f"{DEAD_LETTER_KEY_PREFIX}*")
        }
        found.update(spec.queue for spec in (self.fleet.models.values() if self.fleet else []))
        return sorted(found)

    def show(self, task_id: str, queue: str | None = None) -> DeadLetter:
        """The dead letter of ``task_id``; DeadLetterNotFoundError if no queue holds it."""
        for name in self.queues(queue):
            raw = self.client.hget(dead_letter_key(name), task_id)
            if raw is not None:
                return DeadLetter.model_validate(json.loads(raw))
        where = f"queue {queue}" if queue else "any dead-letter list"
        raise DeadLetterNotFoundError(
            f"No dead letter with task id {task_id!r} in {where}; `slmq dlq list` shows the ones there are."
        )

    def retry(self, task_ids: list[str] | None = None, queue: str | None = None) -> list[str]:
        """Re-publish dead letters (``task_ids``, or all of ``queue``) under their original task ids."""
        letters = [self.show(task_id, queue) for task_id in task_ids] if task_ids else self.list(queue)
        for letter in letters:
            # The stored failure and the attempt count go first: the worker would answer with them again.
            self.app.backend.forget(letter.task_id)
            self.client.delete(attempts_key(letter.task_id))
            self.app.send_task(
                letter.task_name,
                kwargs=letter.kwargs,
                queue=letter.queue,
                task_id=letter.task_id,
                headers=letter.headers,
                argsrepr="()",
                kwargsrepr="{'payload': <re-driven dead letter>}",
            )
            self.client.hdel(dead_letter_key(letter.queue), letter.task_id)
        return [letter.task_id for letter in letters]

    def purge(self, task_ids: list[str] | None = None, queue: str | None = None) -> int:
        """Delete dead letters (``task_ids``, or all of ``queue`` or of every queue); their stored results stay."""
        if task_ids:
            letters = [self.show(task_id, queue) for task_id in task_ids]
            return sum(int(self.client.hdel(dead_letter_key(letter.queue), letter.task_id)) for letter in letters)
        purged = 0
        for name in self.queues(queue):
            with self.client.pipeline() as pipe:  # MULTI: the count is of what was deleted
                pipe.hlen(dead_letter_key(name))
                pipe.delete(dead_letter_key(name))
                count, _ = pipe.execute()
            purged += int(count)
        return purged

    # Last in the class: once defined, `list` names this method in the class body, not the builtin.
    def list(self, queue: str | None = None) -> list[DeadLetter]:
        """Every dead letter of ``queue`` (or of every queue), oldest first."""
        letters = [
            DeadLetter.model_validate(json.loads(raw))
            for name in self.queues(queue)
            for raw in self.client.hvals(dead_letter_key(name))
        ]
        return sorted(letters, key=lambda letter: letter.dead_lettered_at)
