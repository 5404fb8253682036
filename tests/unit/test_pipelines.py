"""Pipelines in the fleet file: validated with the key and the fix, and turned into Celery beat's schedule."""

from datetime import timedelta
from pathlib import Path

import pytest
from celery.schedules import crontab

from celeryconfig import beat_schedule
from slmq.constants import PIPELINE_QUEUE, PIPELINE_TASK, model_from_queue
from slmq.errors import FleetError
from slmq.fleet import load_fleet

FLEET = """
[models.notes]
source = "path:models/notes"

[tasks.delivery_note]
model = "notes"

[pipelines.inbox]
schedule = 30
source = "inbox"
task = "delivery_note"
output = "parsed"

[pipelines.nightly]
schedule = "15 2 * * *"
source = "/srv/exports"
task = "delivery_note"
output = "/srv/parsed"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "fleet.toml"
    path.write_text(text)
    return path


def test_pipelines_load_with_their_folders_relative_to_the_fleet_file(tmp_path: Path) -> None:
    fleet = load_fleet(write(tmp_path, FLEET))
    inbox, nightly = fleet.pipelines["inbox"], fleet.pipelines["nightly"]
    assert (inbox.name, inbox.schedule, inbox.task) == ("inbox", 30, "delivery_note")
    assert fleet.resolve(inbox.source) == tmp_path / "inbox"
    assert fleet.resolve(nightly.output) == Path("/srv/parsed")
    assert nightly.crontab_fields() == {
        "minute": "15", "hour": "2", "day_of_month": "*", "month_of_year": "*", "day_of_week": "*"
    }  # fmt: skip


def test_the_shipped_fleet_schedules_its_inbox_pipeline_and_a_fleet_without_pipelines_schedules_nothing(
    tmp_path: Path,
) -> None:
    shipped = load_fleet(Path(__file__).resolve().parents[2] / "fleet.toml")
    assert set(beat_schedule(shipped)) == {"pipeline:inbox"}
    assert beat_schedule(load_fleet(write(tmp_path, FLEET.split("[pipelines.inbox]")[0]))) == {}


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (('task = "delivery_note"\noutput = "parsed"', 'task = "sentiment"\noutput = "parsed"'),
         "pipelines.inbox.task: 'sentiment' is not a task type of this fleet; served task types: delivery_note"),
        (('schedule = "15 2 * * *"', 'schedule = "at two"'), "must be a number of seconds or a crontab of five fields"),
        (("schedule = 30", "schedule = 0"), "pipelines.inbox.schedule"),
        (('output = "parsed"', 'outptu = "parsed"'), "pipelines.inbox.outptu: unknown key"),
    ],
)  # fmt: skip
def test_a_bad_pipeline_fails_with_its_key_and_the_fix(tmp_path: Path, edit: tuple[str, str], expected: str) -> None:
    with pytest.raises(FleetError, match=None) as raised:
        load_fleet(write(tmp_path, FLEET.replace(*edit)))
    assert expected in str(raised.value)


def test_beat_schedule_sends_each_pipelines_ticks_to_the_pipeline_queue_and_drops_stale_ones(tmp_path: Path) -> None:
    schedule = beat_schedule(load_fleet(write(tmp_path, FLEET)))
    assert set(schedule) == {"pipeline:inbox", "pipeline:nightly"}
    inbox, nightly = schedule["pipeline:inbox"], schedule["pipeline:nightly"]
    assert inbox["task"] == nightly["task"] == PIPELINE_TASK
    assert inbox["args"] == ("inbox",) and inbox["schedule"] == timedelta(seconds=30)
    assert inbox["options"] == {"queue": PIPELINE_QUEUE, "expires": 30.0}
    assert nightly["schedule"] == crontab(minute="15", hour="2")


def test_the_pipeline_queue_can_never_be_a_models_queue() -> None:
    assert model_from_queue(PIPELINE_QUEUE) == "beat.pipelines"  # a dot: not a valid model name
