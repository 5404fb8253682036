"""A job line's prompt version is a fingerprint of what the task type asks the model, not of its module's source."""

import pytest

from workers.model.tasktypes import TASK_TYPES, delivery_note
from workers.recorder import prompt_version


def test_every_task_type_has_its_own_short_stable_prompt_version() -> None:
    versions = {name: prompt_version(task) for name, task in TASK_TYPES.items()}
    assert all(len(version) == 12 and int(version, 16) >= 0 for version in versions.values())
    assert len(set(versions.values())) == len(versions)
    assert versions == {name: prompt_version(task) for name, task in TASK_TYPES.items()}


def test_the_prompt_version_changes_with_the_instruction(monkeypatch: pytest.MonkeyPatch) -> None:
    before = prompt_version(TASK_TYPES["delivery_note"])
    monkeypatch.setattr(delivery_note, "INSTRUCTION", delivery_note.INSTRUCTION + " Be brief.")
    assert prompt_version(TASK_TYPES["delivery_note"]) != before


def test_the_prompt_version_changes_with_the_output_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    task = TASK_TYPES["delivery_note"]
    before = prompt_version(task)
    monkeypatch.setattr(type(task), "output_schema", lambda self: {"type": "object"})
    assert prompt_version(task) != before
