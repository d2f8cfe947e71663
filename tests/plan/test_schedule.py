"""``fleetc plan`` schedule: which day each wave starts and ends, given soak, approvals and maintenance windows."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from fleetc.cli.main import cli
from fleetc.plan.schedule import schedule, wave_times
from fleetc.plan.waves import WaveRules
from fleetc.schema.windows import MaintenanceWindow

REPO = Path(__file__).resolve().parents[2]
NIGHT = MaintenanceWindow.model_validate({"start": "22:00", "duration": "2h"})  # every day, UTC


def _t(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def _rules(*clusters: str, at_once: int = 1, soak: int = 0, deadline: int = 1800, **more: object) -> WaveRules:
    return WaveRules("w", clusters, at_once, soak, deadline, 0, **more)  # type: ignore[arg-type]


def test_clusters_run_in_batches_then_the_wave_soaks() -> None:
    times = wave_times(_rules("a", "b", "c", at_once=2, soak=3600), ["a", "b", "c"], _t("2026-03-02 10:00"))
    assert (times.starts, times.ends) == (_t("2026-03-02 10:00"), _t("2026-03-02 12:00"))  # 2 × 30m, then 1h


def test_a_wave_the_change_does_not_touch_takes_no_time_and_does_not_soak() -> None:
    times = wave_times(_rules("a", soak=3600, require_approval=True), [], _t("2026-03-02 10:00"))
    assert times.ends == times.starts and not times.waits_for_approval


def test_clusters_wait_for_their_window_and_one_without_does_not() -> None:
    rules = _rules("a", "b", at_once=2, windows=(NIGHT, None))
    times = wave_times(rules, ["a", "b"], _t("2026-03-02 10:00"))
    assert times.ends == _t("2026-03-02 22:30") and times.windowed


def test_waves_follow_one_another() -> None:
    first, second = schedule(
        [(_rules("a", soak=600), ["a"]), (_rules("b", windows=(NIGHT,), require_approval=True), ["b"])],
        _t("2026-03-02 21:00"),
    )
    assert first.ends == _t("2026-03-02 21:40") == second.starts
    assert second.ends == _t("2026-03-02 22:30") and second.waits_for_approval


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """The example fleet committed in a git repository, then its stable channel moved to v1.35.0 (not committed)."""
    shutil.copytree(REPO / "examples" / "fleet", tmp_path / "fleet")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run([*git, "add", "-A"], cwd=tmp_path, check=True)
    subprocess.run([*git, "commit", "-qm", "base"], cwd=tmp_path, check=True)
    fleet = tmp_path / "fleet" / "fleet.yaml"
    fleet.write_text(fleet.read_text().replace("stable: v1.34.2", "stable: v1.35.0"))
    return tmp_path


def test_plan_start_shows_when_each_wave_of_the_example_starts_and_ends(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo)
    args = ["plan", "fleet", "--base", "HEAD", "--start", "2026-03-05T12:00", "--format", "json"]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    waves = {w["name"]: w["schedule"] for w in json.loads(result.output)["rollout"]["waves"]}
    # broad: reached Thursday 14:00 UTC, waits for the Berlin night (21:00 UTC) and for the US production clusters'
    # New York night (Friday 04:00 UTC), 45m each, then soaks 2h.
    assert waves["broad"] == {
        "starts": "2026-03-05T14:00:00Z",
        "ends": "2026-03-06T06:45:00Z",
        "waitsForApproval": True,
        "windowed": True,
    }
    text = CliRunner().invoke(cli, args[:-2], catch_exceptions=False).output
    assert (
        "schedule: Thu 2026-03-05 14:00 UTC → Fri 2026-03-06 06:45 UTC (waits for approval, maintenance windows)"
        in (text)
    )
    comment = CliRunner().invoke(cli, [*args[:-2], "--format", "markdown"], catch_exceptions=False).output
    assert "| estimated schedule |" in comment
    broad = next(line for line in comment.splitlines() if line.startswith("| 3 | broad |"))
    assert broad.endswith(
        "| Thu 2026-03-05 14:00 UTC → Fri 2026-03-06 06:45 UTC (waits for approval, maintenance windows) |"
    )


def test_plan_start_rejects_what_is_not_a_date(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo)
    result = CliRunner().invoke(cli, ["plan", "fleet", "--base", "HEAD", "--start", "next tuesday"])
    assert result.exit_code == 2 and "is not a date such as 2026-03-02" in result.output
