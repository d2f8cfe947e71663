"""Maintenance window arithmetic: open or not at a moment, and when it next opens (time zones, midnight, DST)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from fleetc.schema.windows import MaintenanceWindow

BERLIN = ZoneInfo("Europe/Berlin")


def _window(**fields: object) -> MaintenanceWindow:
    return MaintenanceWindow.model_validate({"start": "22:00", "duration": "6h", **fields})


def _t(text: str, zone: ZoneInfo = BERLIN) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=zone).timestamp()


@pytest.mark.parametrize(
    ("moment", "open_"),
    [
        ("2026-03-06 21:59", False),  # Friday, a minute early
        ("2026-03-06 22:00", True),
        ("2026-03-07 03:59", True),  # past midnight, into Saturday: the Friday window
        ("2026-03-07 04:00", False),
        ("2026-03-07 23:00", False),  # Saturday night: not a window day
    ],
)
def test_a_friday_night_window_runs_past_midnight(moment: str, open_: bool) -> None:
    window = _window(days=["Fri"], timeZone="Europe/Berlin")
    assert (window.opening(_t(moment)) is not None) is open_


def test_next_opening_is_now_inside_and_the_next_window_day_outside() -> None:
    window = _window(days=["Mon", "Wed"], timeZone="Europe/Berlin")
    assert window.next_opening(_t("2026-03-02 23:00")) == _t("2026-03-02 23:00")  # Monday, open
    assert window.next_opening(_t("2026-03-03 12:00")) == _t("2026-03-04 22:00")  # Tuesday → Wednesday 22:00


def test_the_window_follows_the_time_zone_across_a_daylight_saving_change() -> None:
    window = _window(days=["Sat", "Sun"], start="02:30", duration="1h", timeZone="Europe/Berlin")
    # 2026-03-29 is the spring change in Berlin: 02:30 local does not exist; zoneinfo reads it as 01:30 UTC (fold=0).
    before = window.next_opening(_t("2026-03-28 12:00"))
    assert before == _t("2026-03-29 02:30")
    assert window.next_opening(_t("2026-03-21 00:00")) == _t("2026-03-21 02:30")  # one week earlier: CET
    assert _t("2026-03-21 02:30") == _t("2026-03-21 01:30", ZoneInfo("UTC"))
    summer = window.next_opening(_t("2026-04-03 00:00"))  # CEST: 02:30 local is 00:30 UTC
    assert summer == _t("2026-04-04 00:30", ZoneInfo("UTC"))


def test_describe_names_days_start_duration_and_zone() -> None:
    assert _window(days=["Sun", "Sat"]).describe() == "Sat,Sun 22:00+6h UTC"
    assert _window().describe() == "every day 22:00+6h UTC"
