"""One runner per rollout: who carries out a FleetRollout, claimed on a ``coordination.k8s.io/v1`` Lease.

A rollout on a management cluster can be carried out by a pipeline's ``fleetc apply`` (or ``fleetc rollout
resume``) and by the in-cluster controller, which takes over a rollout whose pipeline died. Without a claim both
drove it at once: two runners writing the same objects (conflicts, retried passes) and both sending its
notifications. The claim settles who runs it:

- ``fleetc apply --context`` and ``fleetc rollout resume --context`` (without ``--detach``) hold the rollout's runner
  Lease, ``fleetc-runner-<rollout>`` in the rollout's namespace, for as long as they carry it out, with the leader
  election of :mod:`fleetc.engine.leader` (client-go's timings: 15 s lease, renewed every 2 s, given up when not
  renewed for 10 s). A second such command waits until the first releases the claim (it does on exit) or the claim
  lapses (its process died), then carries the rollout out itself;
- the in-cluster controller neither reconciles nor notifies for a rollout whose claim another process holds
  (:class:`RunnerClaims`); it takes the rollout over once the claim is released or has not been renewed for its
  lease duration, judged on the controller's own monotonic clock, as client-go judges a Lease (so the two machines'
  clocks need not agree).

Callers: :mod:`fleetc.cli.management` (:func:`claimed`) and :mod:`fleetc.engine.controller` (:class:`RunnerClaims`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fleetc.core.errors import ClaimLostError, FleetcError, ForbiddenError
from fleetc.core.keys import ObjectKey
from fleetc.engine.leader import LEASE_GROUP, ElectionConfig, LeaderElector, LeaseStore, record_of

log = logging.getLogger("fleetc.runner")

PREFIX = "fleetc-runner-"
LEASE_SECONDS, RENEW_SECONDS, RETRY_SECONDS = 15.0, 10.0, 2.0
REFRESH_SECONDS = 2.0
"""How long the controller trusts what it last read of a claim before reading it again."""


def claim_key(rollout: ObjectKey) -> ObjectKey:
    """The runner Lease of a FleetRollout: ``fleetc-runner-<name>`` in the rollout's namespace."""
    return ObjectKey(LEASE_GROUP, "Lease", rollout.namespace, f"{PREFIX}{rollout.name}")


def command_identity() -> str:
    """Who a command-line runner is: ``fleetc-apply/<host>/<pid>`` (what another runner's message names)."""
    return f"fleetc-apply/{socket.gethostname()}/{os.getpid()}"


def claim_left(record: dict[str, Any], observed_for: float, identity: str) -> float | None:
    """Seconds another runner's claim stays valid, or None when nobody else holds the rollout.

    ``record`` is the Lease's spec, ``observed_for`` how long (on our own clock) it has been unchanged."""
    holder = record.get("holderIdentity") or ""
    if not holder or holder == identity:
        return None
    left = float(record.get("leaseDurationSeconds") or LEASE_SECONDS) - observed_for
    return left if left > 0 else None


def runner_line(record: dict[str, Any], now: float) -> str:
    """Who carries the rollout out, from its claim's record at wall time ``now`` (``fleetc rollout status``)."""
    holder = record.get("holderIdentity") or ""
    if not holder:
        return "runner: no command holds the rollout's claim; the in-cluster controller carries it out (if installed)"
    duration = int(record.get("leaseDurationSeconds") or LEASE_SECONDS)
    try:
        renewed = datetime.strptime(str(record.get("renewTime")), "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    except ValueError:
        return f"runner: {holder}"
    ago = max(0, round(now - renewed.timestamp()))
    lapsed = f"; lapsed ({duration} s lease): its process has died" if ago > duration else ""
    return f"runner: {holder} (claim renewed {ago} s ago{lapsed})"


@dataclass
class _Seen:
    record: dict[str, Any]
    changed_at: float
    read_at: float


class RunnerClaims:
    """The in-cluster controller's view of the runner claims: which rollouts another process carries out.

    Reads a rollout's claim from the server (one GET, at most every :data:`REFRESH_SECONDS` per rollout) when asked;
    it never lists or watches Leases, so the RBAC it needs is ``get`` on Leases."""

    def __init__(
        self,
        reads: LeaseStore,
        identity: str,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        refresh: float = REFRESH_SECONDS,
    ) -> None:
        self._reads, self._identity, self._monotonic, self._refresh = reads, identity, monotonic, refresh
        self._seen: dict[ObjectKey, _Seen] = {}
        self._forbidden = False

    def elsewhere(self, rollout: ObjectKey) -> float | None:
        """Seconds until another runner's claim on ``rollout`` may have lapsed (ask again then), or None when
        nobody else holds it (this process may carry the rollout out)."""
        now = self._monotonic()
        seen = self._seen.get(rollout)
        if seen is None or now - seen.read_at >= self._refresh:
            try:
                record = record_of(self._reads.find(claim_key(rollout)))
            except ForbiddenError as exc:  # installed by an older fleetc: act as it did, and say how to fix it
                if not self._forbidden:
                    log.warning("cannot read runner claims (%s): rollouts are carried out here even while a pipeline "
                                "runs them; apply fleetc install's RBAC again", exc)  # fmt: skip
                self._forbidden = True
                return None
            changed_at = now if seen is None or record != seen.record else seen.changed_at
            seen = self._seen[rollout] = _Seen(record, changed_at, now)
        return claim_left(seen.record, now - seen.changed_at, self._identity)

    def holds_elsewhere(self, rollout: ObjectKey) -> bool:
        """True while another runner carries ``rollout`` out (for the notifier: its notifications are that runner's).
        When the claim cannot be read (the API server does not answer), what was last read of it decides."""
        try:
            return self.elsewhere(rollout) is not None
        except FleetcError as exc:
            seen = self._seen.get(rollout)
            log.warning("cannot read the runner claim of %s/%s: %s", rollout.namespace, rollout.name, exc)
            if seen is None:
                return False
            return claim_left(seen.record, self._monotonic() - seen.changed_at, self._identity) is not None


@dataclass
class Claim:
    """A runner claim this process holds (see :func:`claimed`)."""

    rollout: ObjectKey
    elector: LeaderElector

    def holding(self) -> bool:
        """True while the claim is ours (renewed within the renew deadline)."""
        return self.elector.is_leader()

    def check(self) -> None:
        """Raise :class:`~fleetc.core.errors.ClaimLostError` once the claim is lost: another runner may have
        taken the rollout over, so this process must stop acting on it at once."""
        if not self.holding():
            config = self.elector.config
            raise ClaimLostError(
                f"lost the claim on rollout {self.rollout.namespace}/{self.rollout.name} (Lease {config.namespace}/"
                f"{config.name} not renewed within {config.renew_deadline:.0f} s: is the API server reachable?); "
                "nothing is lost: run the command again to carry on"
            )


@contextlib.contextmanager
def claimed(
    reads: LeaseStore,
    rollout: ObjectKey,
    *,
    identity: str | None = None,
    on_wait: Callable[[dict[str, Any]], None] | None = None,
    lease: float = LEASE_SECONDS,
    renew: float = RENEW_SECONDS,
    retry: float = RETRY_SECONDS,
) -> Iterator[Claim]:
    """Hold ``rollout``'s runner claim for the ``with`` block: wait while another live runner holds it (``on_wait``
    is told who, once), then renew it in the background; release it on the way out, so the in-cluster controller or
    a waiting command takes over at once. ``reads`` must read the server (not a cache) and be this claim's alone (the
    renewals run on their own thread)."""
    config = ElectionConfig(rollout.namespace, claim_key(rollout).name, identity or command_identity(), lease, renew,
                            retry)  # fmt: skip
    elector = LeaderElector(reads, config)
    elector.try_acquire_or_renew()  # once here: a Lease RBAC denies is an error to report (the rule), not to retry
    elector.start()
    try:
        _wait_for(elector, lambda: on_wait(record_of(reads.find(config.key))) if on_wait else None)
        yield Claim(rollout, elector)
    finally:
        elector.release()


def _wait_for(elector: LeaderElector, tell: Callable[[], None], first: float = 0.5) -> None:
    """Wait until the elector holds the claim (for ever: the user or the pipeline's timeout may stop it); ``tell``
    once if that takes longer than ``first`` seconds."""
    deadline = time.monotonic() + first
    while time.monotonic() < deadline:
        if elector.is_leader():
            return
        time.sleep(0.02)
    tell()
    elector.wait_for_leadership(threading.Event())
