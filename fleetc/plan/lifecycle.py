"""``fleetc plan``'s lifecycle section: version expiry against the rollout's duration, and machine rotation dates.

The rollout starts at ``now`` (``--now``, default today UTC) and needs at least the soak of every wave it touches,
in order (the soaks are the only fixed durations; clusters coming up take longer). A version whose ``expires``
date (:class:`fleetc.schema.fleet.VersionLifecycle`) falls before a wave's earliest start while that wave's
clusters still run it, or before the rollout's earliest end on a version the rollout moves clusters to, gets a
warning located at its ``expires``. Rotation: each cluster's ``rotateAfter`` and the date its next rotation is
due (:mod:`fleetc.schema.rotation`), clusters with the same dates grouped.

Needs the head side's fleet model (a built tree carries neither lifecycle nor policy). Caller:
:func:`fleetc.plan.report.compare` with ``rollout=True``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from fleetc.core.diagnostics import Diagnostic, Severity
from fleetc.plan.impact import ClusterImpact
from fleetc.plan.rollout_order import RolloutPlan
from fleetc.plan.snapshot import Snapshot
from fleetc.schema.dates import day
from fleetc.schema.model import Fleet
from fleetc.schema.rotation import Rotation

EXPIRY_CODE = "lifecycle.expires-during-rollout"


@dataclass(frozen=True)
class RotationGroup:
    """Clusters with the same rotation dates."""

    rotate_after: str | None
    next_due: str | None
    max_machine_age_days: int | None
    certificates_expiry_days: int | None
    clusters: tuple[str, ...]

    @property
    def line(self) -> str:
        """``machines created before 2026-12-01 replaced; next rotation due 2027-03-01 (max age 90 days); …``."""
        parts = []
        if self.rotate_after is not None:
            parts.append(f"machines created before {self.rotate_after} replaced")
        if self.next_due is not None:
            parts.append(f"next rotation due {self.next_due} (max age {self.max_machine_age_days} days)")
        elif self.max_machine_age_days is not None:
            parts.append(f"max age {self.max_machine_age_days} days, no rotateAfter date: nothing rotates")
        if self.certificates_expiry_days is not None:
            parts.append(f"control-plane certificates renewed {self.certificates_expiry_days} days before expiry")
        return "; ".join(parts)


@dataclass(frozen=True)
class LifecycleReport:
    """What ``plan`` says about dates: expiry warnings and rotation dates (empty when no policy is set)."""

    now: str
    warnings: tuple[Diagnostic, ...] = ()
    rotations: tuple[RotationGroup, ...] = ()


def wave_starts(plan: RolloutPlan) -> dict[str, int]:
    """Earliest start of each touched wave, in seconds after the rollout starts (the soaks of the touched waves
    before it), plus ``""``: the earliest end of the rollout."""
    starts: dict[str, int] = {}
    elapsed = 0
    for step in plan.waves:
        if step.touched:
            starts[step.name] = elapsed
            elapsed += step.soak_seconds or 0
    starts[""] = elapsed
    return starts


def _expiry_warnings(
    fleet: Fleet, impacts: Iterable[ClusterImpact], plan: RolloutPlan, now: datetime
) -> Iterator[Diagnostic]:
    settings = fleet.settings
    lifecycle = settings.document.spec.versions.lifecycle
    starts = wave_starts(plan)
    end = now + timedelta(seconds=starts[""])
    leaving: dict[str, dict[str, int]] = {}
    arriving: dict[str, int] = {}
    for impact in impacts:
        if not impact.changed or impact.removed or impact.wave not in starts:
            continue
        if impact.upgrade is not None:
            by_wave = leaving.setdefault(impact.upgrade.before, {})
            by_wave[impact.wave] = by_wave.get(impact.wave, 0) + 1
        if impact.version:
            arriving[impact.version] = arriving.get(impact.version, 0) + 1
    for version, entry in sorted(lifecycle.items()):
        expires = entry.expires
        if expires is None or expires <= now:
            continue  # no date, or already expired: an error of validation
        field = ("spec", "versions", "lifecycle", version, "expires")
        for wave, count in sorted(leaving.get(version, {}).items(), key=lambda item: starts[item[0]]):
            start = now + timedelta(seconds=starts[wave])
            if start >= expires:
                message = (
                    f"{version} expires on {day(expires)}, but wave {wave} starts no earlier than {day(start)} "
                    f"(the soaks before it): {count} of its clusters would still run {version} then"
                )
                yield settings.origin.diagnostic(field, message, severity=Severity.WARNING, code=EXPIRY_CODE)
        if version in arriving and end >= expires:
            message = (
                f"{version} expires on {day(expires)}, before this rollout to it can end (no earlier than "
                f"{day(end)}, the waves' soaks): {arriving[version]} clusters would run an expired version"
            )
            yield settings.origin.diagnostic(field, message, severity=Severity.WARNING, code=EXPIRY_CODE)


def _rotations(fleet: Fleet) -> tuple[RotationGroup, ...]:
    groups: dict[Rotation, list[str]] = {}
    for name, entry in fleet.clusters.items():
        rotation = fleet.rotation_of(entry.document)
        if rotation != Rotation():
            groups.setdefault(rotation, []).append(name)
    return tuple(
        RotationGroup(
            day(r.rotate_after) if r.rotate_after else None,
            day(r.next_due) if r.next_due else None,
            r.max_machine_age_days,
            r.certificates_expiry_days,
            tuple(sorted(names)),
        )
        for r, names in sorted(groups.items(), key=lambda item: (item[0].next_due is None, sorted(item[1])))
    )


def lifecycle_report(
    head: Snapshot, impacts: Iterable[ClusterImpact], plan: RolloutPlan, now: datetime
) -> LifecycleReport | None:
    """The lifecycle section of ``plan``; None without the head's fleet model."""
    if head.fleet is None:
        return None
    warnings = tuple(_expiry_warnings(head.fleet, impacts, plan, now))
    return LifecycleReport(day(now), warnings, _rotations(head.fleet))
