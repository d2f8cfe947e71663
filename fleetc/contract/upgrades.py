"""The steps CAPI takes to move a Cluster from one Kubernetes version to another, and why it may refuse.

Follows CAPI v1.14 (``exp/topology/desiredstate/upgrade_plan.go``): without ``ClusterClass.kubernetesVersions``
the target may be at most the next minor; with it, the control plane steps one minor at a time through the
latest listed patch of each minor, and the workers upgrade every third step (kubelet skew n-3) and at the
end. A version never goes down: CAPI cannot roll back a control plane.

Callers: :mod:`fleetc.plan.impact` (machines replaced per step), :mod:`fleetc.plan.policy` (rule errors) and the
simulated topology controller (:mod:`fleetc.sim.topology_plan`, :mod:`fleetc.sim.topology_status`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fleetc.contract.versions import MAX_WORKER_SKEW, Version, is_downgrade, parse_version


@dataclass(frozen=True)
class UpgradePath:
    """From → to, the control-plane and worker steps, and the reason CAPI would refuse it (if any)."""

    before: str
    after: str
    control_plane_steps: tuple[str, ...]
    worker_steps: tuple[str, ...]
    problem: str | None = None
    code: str = ""

    @property
    def downgrade(self) -> bool:
        """True when the version goes down."""
        return is_downgrade(self.before, self.after)

    @property
    def via(self) -> tuple[str, ...]:
        """Intermediate control-plane versions of a chained upgrade."""
        return self.control_plane_steps[:-1]


def _refused(before: str, after: str, code: str, problem: str) -> UpgradePath:
    return UpgradePath(before, after, (), (), problem, code)


def _latest_per_minor(catalogue: Sequence[str], major: int) -> dict[int, str]:
    latest: dict[int, tuple[Version, str]] = {}
    for version in catalogue:
        parsed = parse_version(version)
        if parsed is None or parsed.major != major:
            continue
        current = latest.get(parsed.minor)
        if current is None or parsed.patch >= current[0].patch:
            latest[parsed.minor] = (parsed, version)
    return {minor: version for minor, (_, version) in latest.items()}


def _worker_steps(steps: Sequence[str]) -> tuple[str, ...]:
    """Workers follow every third control-plane step and the last one (CAPI ``DefaultAndValidateUpgradePlans``)."""
    last = len(steps)
    return tuple(v for index, v in enumerate(steps, start=1) if index % MAX_WORKER_SKEW == 0 or index == last)


def _chained(before: str, after: str, old: Version, new: Version, catalogue: Sequence[str]) -> UpgradePath:
    latest = _latest_per_minor(catalogue, new.major)
    missing = [f"v{new.major}.{m}" for m in range(old.minor + 1, new.minor) if m not in latest]
    if missing:
        problem = f"chained upgrade {before} → {after} needs a version of {', '.join(missing)} in kubernetesVersions"
        return _refused(before, after, "minor-skip", problem)
    if after not in catalogue:
        return _refused(before, after, "minor-skip", f"{after} is not in the class's kubernetesVersions")
    steps = (*(latest[m] for m in range(old.minor + 1, new.minor)), after)
    return UpgradePath(before, after, steps, _worker_steps(steps))


def upgrade_path(before: str, after: str, catalogue: Sequence[str] | None) -> UpgradePath:
    """How CAPI moves a Cluster from ``before`` to ``after``; ``catalogue`` is the new class's kubernetesVersions."""
    old, new = parse_version(before), parse_version(after)
    if old is None or new is None:
        return _refused(before, after, "version", f"cannot compare versions {before} and {after}")
    if new < old:
        problem = f"version goes down from {before} to {after}: CAPI cannot roll back a control plane"
        return _refused(before, after, "version-down", problem)
    if new.major != old.major:
        return _refused(before, after, "minor-skip", f"{before} → {after} changes the major version")
    if new.minor <= old.minor + 1:
        return UpgradePath(before, after, (after,), (after,))
    if not catalogue:
        problem = (
            f"{before} → {after} skips {new.minor - old.minor - 1} minor version(s); CAPI upgrades one minor per "
            "step unless the class lists the versions in between (fleet spec.versions.chainedUpgrades + catalogue)"
        )
        return _refused(before, after, "minor-skip", problem)
    return _chained(before, after, old, new, catalogue)
