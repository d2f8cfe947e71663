"""Maintenance windows: when a rollout may start a cluster (``fleet.yaml``: per wave, or per cluster label).

A window recurs on days of the week, opens at a local time in an IANA time zone (:mod:`zoneinfo`) and stays open
for a duration (it may run past midnight: a window opening Friday 22:00 for 6h is open early Saturday). Besides the
spec model, :class:`MaintenanceWindow` answers the two questions its callers ask, as pure functions of a moment
(POSIX seconds): :meth:`~MaintenanceWindow.opening` (the window open at that moment, if any) and
:meth:`~MaintenanceWindow.next_opening` (when the rollout may next start a cluster). Local times that do not exist
on a daylight-saving change resolve the way :mod:`zoneinfo` resolves them (``fold=0``).

Callers: :class:`fleetc.schema.fleet.Wave` and :class:`fleetc.schema.fleet.RolloutPolicy` (the spec),
:mod:`fleetc.rollout.wavegates.window` (the rollout starts a cluster only inside its window) and
:mod:`fleetc.plan.schedule` (which day each wave starts and ends).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, Field, WithJsonSchema, model_validator

from fleetc.schema.base import SpecModel
from fleetc.schema.types import Duration, format_duration, shown

MAX_WINDOW_SECONDS = 7 * 86400
_START = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$")

Day = Literal["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
DAYS: tuple[Day, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def check_start(value: str) -> str:
    """``22:00``: a local time of day, 24-hour, two digits each."""
    if not _START.match(value):
        raise ValueError(f"'{shown(value)}' is not a time of day; write it as HH:MM, 24-hour, such as '22:00'")
    return value


def check_time_zone(value: str) -> str:
    """An IANA time zone name that :mod:`zoneinfo` knows, such as ``Europe/Berlin`` or ``UTC``."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"'{shown(value)}' is not a known IANA time zone, such as 'Europe/Berlin' or 'UTC'") from None
    return value


WindowStart = Annotated[str, AfterValidator(check_start), WithJsonSchema({"type": "string", "pattern": _START.pattern})]
TimeZone = Annotated[
    str, AfterValidator(check_time_zone), WithJsonSchema({"type": "string", "description": "An IANA time zone."})
]


class MaintenanceWindow(SpecModel):
    """A recurring window in which the rollout may start clusters (clusters already in flight finish)."""

    days: list[Day] = Field(default_factory=lambda: list(DAYS), min_length=1, description="Days it opens on.")
    start: WindowStart = Field(description="Local time it opens, HH:MM.")
    duration: Duration = Field(description="How long it stays open, such as '4h'.")
    time_zone: TimeZone = Field(default="UTC", description="IANA time zone of start, such as 'Europe/Berlin'.")

    @model_validator(mode="after")
    def _sane(self) -> MaintenanceWindow:
        if len(set(self.days)) != len(self.days):
            raise ValueError("days: a day is listed twice")
        if not 0 < int(self.duration) <= MAX_WINDOW_SECONDS:
            raise ValueError(f"duration: a window lasts more than 0s and at most {format_duration(MAX_WINDOW_SECONDS)}")
        return self

    def describe(self) -> str:
        """``Mon,Tue 22:00+4h Europe/Berlin``: the window in one line."""
        days = "every day" if len(self.days) == len(DAYS) else ",".join(d for d in DAYS if d in self.days)
        return f"{days} {self.start}+{format_duration(int(self.duration))} {self.time_zone}"

    def _starts(self, moment: float, back: int, ahead: int) -> Iterator[float]:
        zone = ZoneInfo(self.time_zone)
        today: date = datetime.fromtimestamp(moment, zone).date()
        hour, minute = (int(part) for part in self.start.split(":"))
        for offset in range(-back, ahead + 1):
            day = today + timedelta(days=offset)
            if DAYS[day.weekday()] in self.days:
                yield datetime.combine(day, time(hour, minute), zone).timestamp()

    def opening(self, moment: float) -> tuple[float, float] | None:
        """The (opens, closes) of the window open at ``moment``; None when it is closed then."""
        back = int(self.duration) // 86400 + 1
        for opens in self._starts(moment, back, 0):
            if opens <= moment < opens + int(self.duration):
                return opens, opens + int(self.duration)
        return None

    def next_opening(self, moment: float) -> float:
        """``moment`` when the window is open then, else when it next opens."""
        if self.opening(moment) is not None:
            return moment
        return next(opens for opens in self._starts(moment, 0, 8) if opens > moment)
