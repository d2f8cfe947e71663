"""Approvals in a simulation: who approves which wave, and how long after it asked (``fleetc simulate --approve``).

A simulation has nobody to run ``fleetc rollout approve``, so it models the people: ``--approve WAVE[@DELAY]``
(repeatable; ``*`` for every wave, ``none`` for nobody) approves a wave ``DELAY`` after its ``ApprovalNeeded``
event, as ``fleetc simulate``. The default, :data:`DEFAULT`, approves every wave an hour after it asked; a wave
nobody approves ends the simulation waiting for approval (exit 5), as ``apply`` would.
:class:`SimulatedApprover` is a reconciler of FleetRollouts on the plane's manager (virtual time jumps to the
approval). Callers: ``fleetc simulate`` (:func:`parse_approvals`), :func:`fleetc.engine.local.open_plane`
(:func:`install`).
"""

from __future__ import annotations

from dataclasses import dataclass

from fleetc import rollout
from fleetc.contract.timestamps import parse_timestamp
from fleetc.core.errors import OptionError
from fleetc.rollout.model import FLEET_ROLLOUT, GROUP
from fleetc.runtime.manager import DONE, Manager, Request, Result, Watch
from fleetc.schema.types import format_duration, parse_duration

EVERY_WAVE = "*"
NOBODY = "none"
DEFAULT = ("*@1h",)
APPROVER = "fleetc simulate"
NAME = "simulated-approver"


@dataclass(frozen=True)
class Approvals:
    """How long after it asks each wave is approved (seconds); waves not listed (and no ``*``) are never approved."""

    delays: tuple[tuple[str, int], ...] = ()

    def delay(self, wave: str) -> int | None:
        """Seconds from a wave's ApprovalNeeded to its approval; None: nobody approves it."""
        found = dict(self.delays)
        return found.get(wave, found.get(EVERY_WAVE))

    def describe(self) -> str:
        """``--approve`` as given, for the approval's message."""
        return " ".join(f"{wave}@{format_duration(delay)}" for wave, delay in self.delays) or NOBODY


def parse_approvals(values: tuple[str, ...]) -> Approvals:
    """``('broad@2h', '*@0s')`` → Approvals; ``none`` alone: nobody approves. :class:`OptionError` when malformed."""
    if values == (NOBODY,):
        return Approvals()
    delays: list[tuple[str, int]] = []
    for value in values:
        wave, _, delay = value.partition("@")
        if not wave or wave == NOBODY:
            raise OptionError(f"--approve {value!r}: expected WAVE[@DELAY], '*[@DELAY]' or 'none' alone")
        try:
            seconds = parse_duration(delay) if delay else 0
        except ValueError as exc:
            raise OptionError(f"--approve {value!r}: {exc}") from None
        delays.append((wave, seconds))
    return Approvals(tuple(delays))


class SimulatedApprover:
    """Approves a rollout's waiting wave once its delay since ``ApprovalNeeded`` has passed."""

    name = NAME
    group = GROUP
    kind = FLEET_ROLLOUT
    level = 7
    """After the rollout controller (level 6) at an instant: it reads what that controller wrote."""

    def __init__(self, manager: Manager, approvals: Approvals) -> None:
        self._store, self._clock, self.approvals = manager.store, manager.clock, approvals

    def watches(self) -> list[Watch]:
        """None: changes of FleetRollouts, its own kind, queue it."""
        return []

    def will_approve(self, wave: str) -> bool:
        """True when this approver approves ``wave`` (the rollout is not settled while waiting for it)."""
        return self.approvals.delay(wave) is not None

    def reconcile(self, request: Request) -> Result:
        found = self._store.find(request.key)
        status = (found or {}).get("status") or {}
        wave = status.get("awaitingApproval")
        delay = self.approvals.delay(wave) if wave else None
        if found is None or wave is None or delay is None:
            return DONE
        asked = [e for e in status.get("timeline", []) if e.get("type") == "ApprovalNeeded" and e.get("wave") == wave]
        due = (parse_timestamp(asked[-1]["time"]) if asked else self._clock.now()) + delay
        now = self._clock.now()
        if now < due:
            return Result(requeue_after=due - now)
        rollout.approve(
            self._store, request.key, wave, by=f"{APPROVER} (--approve {self.approvals.describe()})", at=now
        )
        return DONE


def install(manager: Manager, approvals: Approvals) -> SimulatedApprover:
    """A simulated approver on ``manager``."""
    approver = SimulatedApprover(manager, approvals)
    manager.add(approver)
    return approver
