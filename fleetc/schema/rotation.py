"""Machine rotation and certificate renewal: the policy (Fleet- and ClusterClass-level) and the dates it implies.

CAPI replaces machines on a date through ``rollout.after`` (Cluster topology: control plane and each
MachineDeployment) and renews control-plane certificates through KubeadmControlPlane
``spec.rollout.before.certificatesExpiryDays``. A timestamp in the output must come from the spec, never from
the clock (the build is byte-identical for the same input), so rotation is driven by an explicit date:

- ``rotateAfter``: machines created before it are replaced (compiled to ``rollout.after``). Commit a date that has
  passed (today): the change reaches each cluster with its wave, like any change, and CAPI rotates it then. A date
  in the future reaches every cluster first and then rotates them all at once when it passes, outside the waves:
  validation warns.
- ``maxMachineAgeDays``: the policy "no machine older than N days". After a rotation every machine is newer than
  ``rotateAfter``, so the next rotation is due on ``rotateAfter + N days``; ``fleetc plan`` shows that date per
  cluster, and ``fleetc validate --now`` warns once it has passed (bump ``rotateAfter``).
- ``renewCertificatesDaysBeforeExpiry``: KCP rolls a control-plane machine whose certificates expire within that
  many days (kubeadm's certificates last a year; CAPI's minimum is 7).

A class's policy overrides the fleet's field by field (:func:`effective`). MachinePools have no ``rollout.after``
in CAPI v1.14's topology: machine pools are not rotated by date. Callers: the Fleet and ClusterClass models, the
compiler (:mod:`fleetc.render.cluster`, :mod:`fleetc.render.kubeadm`), the lifecycle rules and ``fleetc plan``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import Field

from fleetc.schema.base import SpecModel
from fleetc.schema.dates import Moment

MIN_CERTIFICATE_DAYS = 7
"""KubeadmControlPlane's minimum for ``certificatesExpiryDays``."""
MAX_CERTIFICATE_DAYS = 364
"""kubeadm's certificates last 365 days: renewing more days ahead would roll the control plane continuously."""


class MachineRotation(SpecModel):
    """When machines are replaced even without a change, and when control-plane certificates are renewed."""

    rotate_after: Moment | None = Field(
        default=None, description="Replace machines created before this date (CAPI rollout.after)."
    )
    max_machine_age_days: int | None = Field(
        default=None, ge=1, le=3650, description="Policy: no machine older than this; the next rotation is due then."
    )
    renew_certificates_days_before_expiry: int | None = Field(
        default=None,
        ge=MIN_CERTIFICATE_DAYS,
        le=MAX_CERTIFICATE_DAYS,
        description="Roll a control-plane machine whose certificates expire within this many days.",
    )


@dataclass(frozen=True)
class Rotation:
    """A cluster's effective rotation policy."""

    rotate_after: datetime | None = None
    max_machine_age_days: int | None = None
    certificates_expiry_days: int | None = None

    @property
    def next_due(self) -> datetime | None:
        """When the next rotation is due (``rotateAfter`` + the maximum age), if both are set."""
        if self.rotate_after is None or self.max_machine_age_days is None:
            return None
        return self.rotate_after + timedelta(days=self.max_machine_age_days)


def effective(fleet: MachineRotation | None, cluster_class: MachineRotation | None) -> Rotation:
    """The policy a cluster follows: its class's fields over the fleet's."""
    layers = [p for p in (fleet, cluster_class) if p is not None]

    def pick(name: str) -> object:
        return next((getattr(p, name) for p in reversed(layers) if getattr(p, name) is not None), None)

    after, age, days = (
        pick("rotate_after"),
        pick("max_machine_age_days"),
        pick("renew_certificates_days_before_expiry"),
    )
    return Rotation(
        after if isinstance(after, datetime) else None,
        age if isinstance(age, int) else None,
        days if isinstance(days, int) else None,
    )
