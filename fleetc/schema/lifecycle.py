"""Lifecycle rules that depend on the date: version classifications and expiry, machine rotation dates.

``now`` is an input (``fleetc validate --now DATE``, default today UTC), so a check is reproducible in tests and
CI. Version lifecycle (``spec.versions.lifecycle`` of the Fleet): a channel or a pinned cluster on a deprecated
version is a warning, on an expired one (``expires`` on or before ``now``) an error; a lifecycle entry for a
version outside the catalogue is an error. Machine rotation (:mod:`fleetc.schema.rotation`): a ``rotateAfter``
in the future is a warning (it would rotate every cluster at once, outside the waves), and so is a rotation
overdue under ``maxMachineAgeDays`` or a maximum age without a ``rotateAfter`` date.

Caller: :func:`fleetc.schema.rules.check`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from fleetc.core.diagnostics import Diagnostic, Severity
from fleetc.schema.dates import day
from fleetc.schema.fleet import VersionLifecycle
from fleetc.schema.model import Entry, Fleet
from fleetc.schema.rotation import MachineRotation, Rotation, effective

CODE_PREFIX = "lifecycle."
"""Codes of the findings that depend on the date; a diff's base side ignores them (it is not what changes)."""
EXPIRED, DEPRECATED, ROTATION = (
    f"{CODE_PREFIX}version-expired",
    f"{CODE_PREFIX}version-deprecated",
    f"{CODE_PREFIX}rotation",
)


def date_dependent(diagnostic: Diagnostic) -> bool:
    """True for a finding of these rules (it may change from one day to the next)."""
    return diagnostic.code.startswith(CODE_PREFIX)


def expired(lifecycle: VersionLifecycle | None, now: datetime) -> bool:
    """True when the version's expiry date has come."""
    return lifecycle is not None and lifecycle.expires is not None and lifecycle.expires <= now


def _finding(version: str, lifecycle: VersionLifecycle | None, now: datetime) -> tuple[Severity, str] | None:
    if lifecycle is None:
        return None
    if expired(lifecycle, now):
        assert lifecycle.expires is not None
        return Severity.ERROR, f"{version} expired on {day(lifecycle.expires)}; move to a supported version"
    if lifecycle.classification == "deprecated":
        until = f" (expires {day(lifecycle.expires)})" if lifecycle.expires is not None else ""
        return Severity.WARNING, f"{version} is deprecated{until}; plan the upgrade"
    return None


def _code(severity: Severity) -> str:
    return EXPIRED if severity is Severity.ERROR else DEPRECATED


def version_lifecycle_rules(fleet: Fleet, now: datetime) -> Iterator[Diagnostic]:
    """Lifecycle entries name catalogue versions; channels and pinned clusters run no deprecated or expired one."""
    entry = fleet.settings
    versions = entry.document.spec.versions
    for version in versions.lifecycle:
        if version not in versions.catalogue:
            message = f"{version} is not in the catalogue"
            yield entry.origin.diagnostic(("spec", "versions", "lifecycle", version), message, at_key=True)
    following = Counter(fleet.channel_of(c.document) for c in fleet.clusters.values())
    for name, version in versions.channels.items():
        found = _finding(version, versions.lifecycle.get(version), now)
        if found is not None:
            severity, message = found
            count = following.get(name, 0)
            followers = f"; {count} cluster{'s' if count != 1 else ''} follow{'s' if count == 1 else ''} it"
            yield entry.origin.diagnostic(
                ("spec", "versions", "channels", name),
                f"channel {name}: {message}{followers}",
                severity=severity,
                code=_code(severity),
            )
    for cluster in fleet.clusters.values():
        pinned = cluster.document.spec.version
        if pinned is not None:
            found = _finding(pinned, versions.lifecycle.get(pinned), now)
            if found is not None:
                yield cluster.origin.diagnostic(("spec", "version"), found[1], severity=found[0], code=_code(found[0]))


def _rotation_sources(fleet: Fleet) -> Iterator[tuple[Entry[Any], MachineRotation | None]]:
    """The fleet's policy, then each class in use with its own (``None`` when it sets none)."""
    used = {c.document.spec.class_ for c in fleet.clusters.values()}
    for name in sorted(used):
        cluster_class = fleet.classes.get(name)
        if cluster_class is not None:
            yield cluster_class, cluster_class.document.spec.machine_rotation


def _rotation_problems(policy: Rotation, now: datetime) -> Iterator[tuple[str, str]]:
    """``(field, message)`` for each problem of an effective policy on ``now`` (field: the spec's name)."""
    after, due = policy.rotate_after, policy.next_due
    if after is not None and after > now:
        yield (
            "rotateAfter",
            f"rotateAfter {day(after)} is in the future: every cluster that has it by then replaces its machines at "
            "once, outside the waves; commit a date that has passed to rotate wave by wave",
        )
    if after is not None and due is not None and due < now:
        yield (
            "rotateAfter",
            f"machines may be older than {policy.max_machine_age_days} days: the rotation was due on {day(due)}; "
            "set rotateAfter to a recent date",
        )
    if after is None and policy.max_machine_age_days is not None:
        yield "maxMachineAgeDays", "maxMachineAgeDays without rotateAfter rotates nothing; set rotateAfter"


_OWN_FIELD = {"rotateAfter": "rotate_after", "maxMachineAgeDays": "max_machine_age_days"}


def rotation_rules(fleet: Fleet, now: datetime) -> Iterator[Diagnostic]:
    """Rotation dates make sense on ``now``: not in the future, not overdue, a maximum age has a date.

    Checked for each class in use (its policy over the fleet's), reported where the field is written, once."""
    fleet_policy = fleet.settings.document.spec.machine_rotation
    found: dict[tuple[str, str, str], Diagnostic] = {}
    for class_entry, class_policy in _rotation_sources(fleet):
        for field, message in _rotation_problems(effective(fleet_policy, class_policy), now):
            own = class_policy is not None and getattr(class_policy, _OWN_FIELD[field]) is not None
            source = class_entry if own else fleet.settings
            diagnostic = source.origin.diagnostic(
                ("spec", "machineRotation", field), message, severity=Severity.WARNING, code=ROTATION
            )
            found.setdefault((str(diagnostic.location), diagnostic.field, message), diagnostic)
    yield from found.values()


def lifecycle_rules(fleet: Fleet, now: datetime) -> Iterator[Diagnostic]:
    """Every date-dependent rule."""
    yield from version_lifecycle_rules(fleet, now)
    yield from rotation_rules(fleet, now)
