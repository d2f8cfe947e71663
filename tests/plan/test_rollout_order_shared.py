"""``fleetc plan``'s rollout order and the rollout controller's waves come from one resolution of the wave rules.

For the example fleet and a generated one, the order ``plan`` prints (:func:`fleetc.plan.rollout_order.rollout_order`)
and the waves and cluster order the controller runs (:func:`fleetc.rollout.plan_rollout`) are equal, and replacing
:func:`fleetc.plan.waves.resolve` changes both the same way: neither side resolves the rules by itself.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from fleetc.plan import waves
from fleetc.plan.rollout_order import rollout_order
from fleetc.plan.snapshot import from_rendered_set
from fleetc.render.compile import compile_fleet
from fleetc.render.rendered import RenderedSet
from fleetc.rollout import plan_rollout
from fleetc.schema.fleet import Wave
from fleetc.testing.synthetic import write_fleet
from tests.render.support import EXAMPLE, load_fleet

Order = list[tuple[str, tuple[str, ...], int | None, int | None, int | None, int | None]]


def _plan_order(rendered: RenderedSet) -> Order:
    """Waves as ``fleetc plan`` shows them."""
    steps = rollout_order(from_rendered_set("head", rendered), []).waves
    return [
        (s.name, s.clusters, s.max_concurrent, s.soak_seconds, s.control_plane_deadline_seconds, s.failure_budget)
        for s in steps
    ]


def _controller_order(rendered: RenderedSet) -> Order:
    """Waves as the rollout controller runs them: clusters of each wave by their position in it."""
    plan = plan_rollout(rendered, revision="r1")
    order: Order = []
    for wave in plan.waves:
        members = sorted((c for c in plan.clusters if c.wave == wave.name), key=lambda c: c.order)
        assert len(members) == wave.size
        clusters = tuple(c.name for c in members)
        order.append(
            (
                wave.name,
                clusters,
                wave.max_concurrent,
                wave.soak_seconds,
                wave.control_plane_deadline_seconds,
                wave.failure_budget,
            )
        )
    return order


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> RenderedSet:
    """A 240-cluster generated fleet (:mod:`fleetc.testing.synthetic`), compiled."""
    root = tmp_path_factory.mktemp("generated") / "fleet"
    write_fleet(root, 240, seed=11)
    return compile_fleet(load_fleet(root))


@pytest.fixture(scope="module")
def example() -> RenderedSet:
    return compile_fleet(load_fleet(EXAMPLE))


@pytest.mark.parametrize("fleet", ["example", "generated"])
def test_plan_and_controller_run_the_same_waves_in_the_same_order(fleet: str, request: pytest.FixtureRequest) -> None:
    rendered: RenderedSet = request.getfixturevalue(fleet)
    plan_order = _plan_order(rendered)
    assert len(plan_order) >= 3 and all(clusters for _, clusters, *_ in plan_order)
    assert plan_order == _controller_order(rendered)


@pytest.mark.parametrize("fleet", ["example", "generated"])
def test_both_take_the_rules_from_the_one_resolve(
    fleet: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    rendered: RenderedSet = request.getfixturevalue(fleet)
    before = _plan_order(rendered)
    real = waves.resolve

    def odd(wave: Wave, clusters: tuple[str, ...], windows: Any = None) -> waves.WaveRules:
        rules = real(wave, clusters, windows)
        return dataclasses.replace(
            rules,
            clusters=tuple(reversed(rules.clusters)),
            windows=tuple(reversed(rules.windows)),
            max_concurrent=rules.max_concurrent + 7,
            failure_budget=rules.failure_budget + 3,
        )

    monkeypatch.setattr(waves, "resolve", odd)
    after = _plan_order(rendered)
    assert after != before
    assert [(name, tuple(reversed(clusters))) for name, clusters, *_ in after] == [(n, c) for n, c, *_ in before]
    assert after == _controller_order(rendered)


def test_the_resolution_rounds_percentages_down_and_keeps_one_in_flight() -> None:
    wave = Wave.model_validate(
        {"name": "w", "selector": {}, "maxConcurrent": "10%", "failureBudget": "10%", "soak": "1h30m"}
    )
    rules = waves.resolve(wave, [f"c{i}" for i in range(19)])
    assert (rules.size, rules.max_concurrent, rules.failure_budget, rules.soak_seconds) == (19, 1, 1, 5400)
    assert rules.control_plane_deadline_seconds == 1800


def test_a_generated_fleet_is_not_a_trivial_case(generated: RenderedSet) -> None:
    """The generated fleet has percentage rules that resolve to more than one cluster at once."""
    order = _controller_order(generated)
    assert any(max_concurrent is not None and max_concurrent > 1 for _, _, max_concurrent, *_ in order)
