"""The wave gate protocol (see :mod:`fleetc.rollout.wavegates`): each method's default is "no objection"."""

from __future__ import annotations

from typing import Protocol

from fleetc.rollout.entries import ClusterEntry
from fleetc.rollout.gates import Verdict
from fleetc.rollout.model import WaveSpec
from fleetc.rollout.scope import Scope


class WaveGate(Protocol):
    """A rule around a wave. Gates subclass this protocol and override the questions they answer."""

    name: str

    def free(self, scope: Scope, wave: WaveSpec) -> int | None:
        """How many more clusters of the current ``wave`` may start now; None: no limit from this gate."""
        return None

    def expire(self, scope: Scope, entry: ClusterEntry, verdict: Verdict) -> str | None:
        """Why ``entry``, in flight and not healthy yet (``verdict``), fails now; None: it may go on."""
        return None

    def halt(self, scope: Scope, wave: WaveSpec) -> str | None:
        """Why the rollout halts in the current ``wave``; None: it may go on."""
        return None

    def hold(self, scope: Scope, wave: WaveSpec) -> bool:
        """True while the finished ``wave`` must wait before the next one starts."""
        return False

    def release(self, scope: Scope, wave: WaveSpec) -> bool:
        """The rollout leaves the finished ``wave``; True when this gate already announced its completion."""
        return False
