"""Maintenance windows, approval gates and notification receivers in ``fleet.yaml``: bad values get located
diagnostics (file:line: field), good ones validate."""

from __future__ import annotations

from typing import Any

import pytest

from tests.builders import FleetBuilder, assert_valid, at, only, position

WINDOW = {"days": ["Sat", "Sun"], "start": "02:00", "duration": "4h", "timeZone": "Europe/Berlin"}
RECEIVER = {"name": "ops", "type": "slack", "urlFrom": {"env": "FLEETC_SLACK_URL"}}


def _wave(field: str, value: Any) -> FleetBuilder:
    return FleetBuilder.minimal().set("Fleet", None, ["spec", "rollout", "waves", 0, field], value)


def test_a_fleet_with_windows_approvals_and_receivers_is_valid() -> None:
    fleet = (
        _wave("window", WINDOW)
        .set("Fleet", None, ["spec", "rollout", "waves", 1, "requireApproval"], True)
        .set(
            "Fleet", None, "spec.rollout.windows", [{"selector": {"matchLabels": {"ring": "canary"}}, "window": WINDOW}]
        )
        .set("Fleet", None, "spec.notifications", {"receivers": [RECEIVER], "timeout": "5s", "retries": 2})
    )
    assert_valid(fleet.validate())


@pytest.mark.parametrize(
    ("window", "field", "words"),
    [
        pytest.param({**WINDOW, "timeZone": "Europe/Atlantis"}, "timeZone", "not a known IANA time zone", id="zone"),
        pytest.param({**WINDOW, "start": "25:00"}, "start", "not a time of day", id="start"),
        pytest.param({**WINDOW, "days": ["Sat", "Caturday"]}, "days[1]", "Input should be", id="day"),
        pytest.param({**WINDOW, "days": ["Sat", "Sat"]}, "", "a day is listed twice", id="twice"),
        pytest.param({**WINDOW, "duration": "0s"}, "", "a window lasts more than 0s", id="empty"),
        pytest.param({**WINDOW, "duration": "200h"}, "", "at most 168h", id="long"),
    ],
)
def test_a_bad_window_is_located(window: dict[str, Any], field: str, words: str) -> None:
    fleet = _wave("window", window)
    path = "spec.rollout.waves[0].window" + (f".{field}" if field else "")
    diagnostic = only(fleet.validate(), field=path)
    assert words in diagnostic.message
    assert at(diagnostic)[0] == "fleet/fleet.yaml"


def test_a_bad_time_zone_points_at_its_line() -> None:
    fleet = _wave("window", {**WINDOW, "timeZone": "Mars/Olympus"})
    diagnostic = only(fleet.validate(), field="spec.rollout.waves[0].window.timeZone")
    assert at(diagnostic) == ("fleet/fleet.yaml", *position(fleet.text("fleet.yaml"), "Mars/Olympus"))


def test_require_approval_takes_only_a_boolean() -> None:
    diagnostic = only(_wave("requireApproval", "yes").validate(), field="spec.rollout.waves[0].requireApproval")
    assert "bool" in diagnostic.message


@pytest.mark.parametrize(
    ("notifications", "field", "words"),
    [
        pytest.param(
            {"receivers": [{**RECEIVER, "urlFrom": {}}]}, "receivers[0].urlFrom", "exactly one", id="no-source"
        ),
        pytest.param(
            {"receivers": [{**RECEIVER, "urlFrom": {"env": "X", "secretKeyRef": {"name": "s", "key": "url"}}}]},
            "receivers[0].urlFrom",
            "exactly one",
            id="two-sources",
        ),
        pytest.param(
            {"receivers": [{**RECEIVER, "urlFrom": {"env": "1-bad"}}]},
            "receivers[0].urlFrom.env",
            "not an environment variable name",
            id="env-name",
        ),
        pytest.param({"receivers": [RECEIVER, RECEIVER]}, "", "ops defined twice", id="twice"),
        pytest.param({"receivers": [{**RECEIVER, "events": ["Exploded"]}]}, "receivers[0].events[0]", "", id="event"),
        pytest.param({"receivers": [RECEIVER], "retries": 99}, "retries", "", id="retries"),
    ],
)
def test_a_bad_receiver_is_located(notifications: dict[str, Any], field: str, words: str) -> None:
    fleet = FleetBuilder.minimal().set("Fleet", None, "spec.notifications", notifications)
    path = "spec.notifications" + (f".{field}" if field else "")
    diagnostic = only(fleet.validate(), field=path)
    assert words in diagnostic.message


def test_a_receiver_url_written_in_the_spec_is_refused() -> None:
    receiver = {"name": "ops", "url": "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX"}
    fleet = FleetBuilder.minimal().set("Fleet", None, "spec.notifications", {"receivers": [receiver]})
    messages = [str(d) for d in fleet.validate().diagnostics]
    assert any("spec.notifications.receivers[0].url" in m for m in messages)
    assert not any("XXXXXXXXXXXXXXXXXXXXXXXX" in m for m in messages)
