"""Upgrade paths CAPI v1.14 takes (``upgrade_plan.go``): one minor per step, chained through kubernetesVersions."""

from __future__ import annotations

from fleetc.contract.upgrades import upgrade_path

CATALOGUE = ("v1.31.3", "v1.32.1", "v1.32.4", "v1.33.0", "v1.34.2", "v1.35.0")


def test_next_minor_needs_no_catalogue() -> None:
    path = upgrade_path("v1.34.2", "v1.35.0", None)
    assert (path.problem, path.control_plane_steps, path.worker_steps, path.via) == (
        None,
        ("v1.35.0",),
        ("v1.35.0",),
        (),
    )


def test_chained_upgrade_steps_through_latest_patch_and_workers_every_third_step() -> None:
    path = upgrade_path("v1.31.3", "v1.35.0", CATALOGUE)
    assert path.problem is None
    assert path.control_plane_steps == ("v1.32.4", "v1.33.0", "v1.34.2", "v1.35.0")
    assert path.worker_steps == ("v1.34.2", "v1.35.0")
    assert path.via == ("v1.32.4", "v1.33.0", "v1.34.2")


def test_skipping_a_minor_without_catalogue_is_refused() -> None:
    path = upgrade_path("v1.33.0", "v1.35.0", None)
    assert path.code == "minor-skip" and path.problem is not None and "skips 1 minor" in path.problem


def test_a_gap_in_the_catalogue_is_refused() -> None:
    path = upgrade_path("v1.31.3", "v1.35.0", ("v1.31.3", "v1.32.1", "v1.34.2", "v1.35.0"))
    assert path.code == "minor-skip" and path.problem is not None and "v1.33" in path.problem


def test_target_outside_catalogue_is_refused() -> None:
    assert upgrade_path("v1.31.3", "v1.33.9", CATALOGUE).code == "minor-skip"


def test_down_is_refused_and_marked() -> None:
    path = upgrade_path("v1.35.0", "v1.34.2", CATALOGUE)
    assert (path.code, path.downgrade) == ("version-down", True)
    assert path.control_plane_steps == ()


def test_major_change_and_nonsense_are_refused() -> None:
    assert upgrade_path("v1.35.0", "v2.0.0", None).code == "minor-skip"
    assert upgrade_path("v1.35.0", "latest", None).code == "version"
