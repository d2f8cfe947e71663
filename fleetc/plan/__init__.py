"""Diff and plan between two revisions of a fleet (docs/design.md §5): what changes, what it does, in which order.

Pipeline: :mod:`~fleetc.plan.sides` reads each side (a fleet at a git revision or on disk, validated and
compiled; or a built tree) → :func:`~fleetc.plan.report.compare` diffs the rendered objects
(:mod:`~fleetc.plan.diff`, normalised by :mod:`~fleetc.plan.normalize`), pairs class revisions
(:mod:`~fleetc.plan.revisions`), derives each cluster's impact (:mod:`~fleetc.plan.impacts`, modelled in
:mod:`~fleetc.plan.impact`) and the spec lines that caused it (:mod:`~fleetc.plan.causes`), checks the
cross-revision rules (:mod:`~fleetc.plan.policy`) and, for ``plan``,
the rollout order (:mod:`~fleetc.plan.rollout_order`) → :mod:`~fleetc.plan.formats` writes text, markdown or JSON.

Imports only :mod:`fleetc.render` and below. Everything but :mod:`~fleetc.plan.sides` is pure.
"""

from fleetc.plan.report import DiffReport, compare
from fleetc.plan.sides import fleet_side, open_fleet, rendered_side
from fleetc.plan.snapshot import SideFailure, Snapshot

__all__ = ["DiffReport", "SideFailure", "Snapshot", "compare", "fleet_side", "open_fleet", "rendered_side"]
