"""Wave-level gates: the rules around a wave that the rollout controller consults, one small object each.

A gate answers some of five questions the controller asks (:class:`WaveGate`; a gate overrides only the ones it
has an opinion on, the others answer "no objection"):

- ``free``: how many more clusters of the current wave may start now (:mod:`.concurrency`: ``maxConcurrent``);
- ``expire``: must a cluster in flight that is not healthy yet fail now (:mod:`.deadline`:
  ``controlPlaneDeadlineSeconds``; :mod:`.progress`: no progress for twice that)?
- ``halt``: must the rollout stop (:mod:`.budget`: more failures than the wave's ``failureBudget``)?
- ``hold``: must a finished wave wait before the next starts (:mod:`.soak`: ``soakSeconds``)?
- ``release``: the rollout leaves the finished wave; True when the gate already announced the wave's completion.

:mod:`.approval` (``requireApproval``) answers ``free`` (nothing starts before the approval). Maintenance windows are
per cluster, not per wave: :mod:`.window` filters the clusters the gates let start.

:data:`GATES` is the list the controller consults, in order. A new gate (an approval, a time window) is one module
with one class and its field in the wave's spec (:class:`fleetc.schema.fleet.Wave`, resolved by
:func:`fleetc.plan.waves.resolve`, carried in :class:`fleetc.rollout.model.WaveSpec`), added here.
Callers: the controller's stages :mod:`fleetc.rollout.reconcile_waves` and :mod:`fleetc.rollout.reconcile_clusters`.
"""

from __future__ import annotations

from fleetc.rollout.wavegates.approval import ApprovalGate
from fleetc.rollout.wavegates.budget import FailureBudget
from fleetc.rollout.wavegates.concurrency import Concurrency
from fleetc.rollout.wavegates.deadline import ControlPlaneDeadline
from fleetc.rollout.wavegates.gate import WaveGate
from fleetc.rollout.wavegates.progress import ProgressDeadline
from fleetc.rollout.wavegates.soak import Soak

GATES: tuple[WaveGate, ...] = (
    Concurrency(),
    ControlPlaneDeadline(),
    ProgressDeadline(),
    FailureBudget(),
    Soak(),
    ApprovalGate(),
)
"""Every wave gate, in the order the controller consults them."""

__all__ = [
    "GATES",
    "ApprovalGate",
    "Concurrency",
    "ControlPlaneDeadline",
    "FailureBudget",
    "ProgressDeadline",
    "Soak",
    "WaveGate",
]
