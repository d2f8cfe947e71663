"""Wave gates are objects the controller consults: a new gate changes what the controller does without touching it.

The four built-in gates keep their decisions (``test_controller``); here two stand-in gates of the kinds to come
(an approval that holds a finished wave, a gate that halts) are added to :data:`fleetc.rollout.wavegates.GATES`.
"""

from __future__ import annotations

import pytest

from fleetc.rollout import ClusterState, Phase, wavegates
from fleetc.rollout.model import WaveSpec
from fleetc.rollout.scope import Scope
from fleetc.rollout.wavegates import WaveGate
from tests.rollout.support import Harness, WaveDef, make_plan

WAVES = (WaveDef("canary", 1), WaveDef("broad", 3, 3))


class HoldAfter(WaveGate):
    """Holds the rollout after ``wave`` finished (an approval nobody gives)."""

    name = "hold"

    def __init__(self, wave: str) -> None:
        self.wave = wave

    def hold(self, scope: Scope, wave: WaveSpec) -> bool:
        return wave.name == self.wave


class HaltIn(WaveGate):
    """Halts as soon as ``wave`` is the current one."""

    name = "halt"

    def __init__(self, wave: str) -> None:
        self.wave = wave

    def halt(self, scope: Scope, wave: WaveSpec) -> str | None:
        return f"wave {wave.name}: stopped by a test gate" if wave.name == self.wave else None


def _run(hours: float = 12) -> tuple[Harness, dict[str, ClusterState], Phase, str | None]:
    harness = Harness.start()
    plan = make_plan(*WAVES)
    harness.seed(plan)
    key = harness.submit(plan)
    view = harness.run(key, hours=hours)
    return harness, {c.name: c.state for c in view.clusters}, view.phase, view.halt_reason


def test_the_built_in_gates_are_the_six_wave_rules() -> None:
    assert [g.name for g in wavegates.GATES] == [
        "concurrency",
        "control-plane-deadline",
        "progress-deadline",
        "failure-budget",
        "soak",
        "approval",
    ]


def test_an_added_hold_gate_keeps_the_next_wave_from_starting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wavegates, "GATES", (*wavegates.GATES, HoldAfter("canary")))
    harness, states, phase, _ = _run()
    assert phase is Phase.PROGRESSING
    assert states["canary-01"] is ClusterState.SUCCEEDED
    assert {states[name] for name in WAVES[1].clusters()} == {ClusterState.PENDING}
    assert harness.cluster_applies() == ["canary-01"]


def test_an_added_halt_gate_halts_with_its_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wavegates, "GATES", (*wavegates.GATES, HaltIn("canary")))
    harness, states, phase, reason = _run()
    assert phase is Phase.HALTED and reason == "wave canary: stopped by a test gate"
    assert set(states.values()) == {ClusterState.PENDING}
    assert harness.cluster_applies() == []


def test_without_added_gates_the_same_fleet_completes() -> None:
    harness, states, phase, _ = _run()
    assert phase is Phase.COMPLETE and set(states.values()) == {ClusterState.SUCCEEDED}
    assert len(harness.cluster_applies()) == 4
