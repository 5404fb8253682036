"""A scheduled pipeline as the fleet file declares it: ``[pipelines.<name>]``."""

import re
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

_CRON_FIELD = re.compile(r"^[0-9*/,\-]+$")
DAY_S = 24 * 3600


class PipelineSpec(BaseModel):
    """Every ``schedule``, each new file in ``source`` becomes a job of ``task``; results go to ``output``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    schedule: Annotated[float, Field(gt=0)] | str = Field(
        description="Seconds between runs, or a crontab 'minute hour day-of-month month day-of-week'."
    )
    source: Path = Field(description="The inbox folder (relative to the fleet file); processed files move to done/.")
    task: str
    output: Path = Field(description="Where each file's results go (relative to the fleet file).")
    timeout_s: Annotated[float, Field(gt=0)] = Field(
        default=DAY_S, description="A file whose job is not finished by then moves to failed/ (its job stays)."
    )

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: float | str) -> float | str:
        if isinstance(value, str) and (len(value.split()) != 5 or not all(map(_CRON_FIELD.match, value.split()))):
            raise ValueError(
                f"schedule {value!r} must be a number of seconds or a crontab of five fields, e.g. '*/5 * * * *'"
            )
        return value

    def crontab_fields(self) -> dict[str, str] | None:
        """The crontab's fields by name, or None for a schedule in seconds."""
        if not isinstance(self.schedule, str):
            return None
        names = ("minute", "hour", "day_of_month", "month_of_year", "day_of_week")
        return dict(zip(names, self.schedule.split(), strict=True))
