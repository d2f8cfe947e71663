"""Leader election on a ``coordination.k8s.io/v1`` Lease, with client-go's ``leaderelection`` semantics.

Several ``fleetc controller run`` processes may run at once (a Deployment with two replicas); only the one holding
the Lease reconciles. The record is the Lease's spec: ``holderIdentity``, ``leaseDurationSeconds``, ``acquireTime``,
``renewTime``, ``leaseTransitions``. As in client-go:

- a candidate takes the Lease when it does not exist, when its holder is empty (released), or when the record has
  not changed for ``leaseDurationSeconds`` as measured on the candidate's own monotonic clock since it last saw the
  record change (so clock skew between machines does not matter); taking it over bumps ``leaseTransitions`` and
  sets ``acquireTime``;
- the holder renews (``renewTime``) every ``retry_period``; a write with a stale resourceVersion loses the race;
- a holder that has not renewed for ``renew_deadline`` (shorter than the lease duration) stops acting at once:
  :meth:`LeaderElector.is_leader` turns False before any other candidate may take over;
- :meth:`LeaderElector.release` (on SIGTERM) clears ``holderIdentity`` and sets ``leaseDurationSeconds`` to 1, so a
  standby takes over without waiting.

:func:`next_record` is the pure decision; :class:`LeaderElector` does the I/O on a background thread over any
:class:`~fleetc.runtime.store.Store` whose ``find`` reads the server (a
:class:`~fleetc.runtime.kube.KubeStore` through :class:`ServerReads`). Caller: :mod:`fleetc.engine.controller`.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from fleetc.core.errors import AlreadyExists, Conflict, FleetcError, NotFound
from fleetc.core.keys import Manifest, ObjectKey

LEASE_GROUP = "coordination.k8s.io"
LEASE_API = "coordination.k8s.io/v1"
JITTER = 1.2
"""client-go's JitterFactor: a candidate retries every ``retry_period × [1, 1 + 1.2)``."""

log = logging.getLogger("fleetc.leader")


@dataclass(frozen=True)
class ElectionConfig:
    """Which Lease, who we are, and the timings (client-go's defaults: 15 s, 10 s, 2 s)."""

    namespace: str
    name: str
    identity: str
    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0

    def __post_init__(self) -> None:
        if not self.lease_duration > self.renew_deadline > self.retry_period > 0:
            raise ValueError("leader election needs lease duration > renew deadline > retry period > 0")

    @property
    def key(self) -> ObjectKey:
        """The Lease's key."""
        return ObjectKey(LEASE_GROUP, "Lease", self.namespace, self.name)


def micro_time(moment: float) -> str:
    """A ``metav1.MicroTime`` (RFC 3339 with microseconds), as Lease times are written."""
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def record_of(lease: Manifest | None) -> dict[str, Any]:
    """The election record of a Lease (its spec), empty for none."""
    return dict((lease or {}).get("spec") or {})


def next_record(
    record: dict[str, Any], identity: str, *, expired: bool, duration: float, now: float
) -> dict[str, Any] | None:
    """The record to write to hold (or take) the Lease, or None when another holder's lease is still valid.

    ``expired``: the record has not changed for its ``leaseDurationSeconds`` (on our own clock)."""
    holder = record.get("holderIdentity") or ""
    if holder and holder != identity and not expired:
        return None
    stamp = micro_time(now)
    transitions = int(record.get("leaseTransitions") or 0)
    if holder == identity:
        return {**record, "renewTime": stamp, "leaseDurationSeconds": _seconds(duration)}
    return {
        "holderIdentity": identity,
        "leaseDurationSeconds": _seconds(duration),
        "acquireTime": stamp,
        "renewTime": stamp,
        "leaseTransitions": transitions + 1 if record else 0,
    }


def released(record: dict[str, Any], now: float) -> dict[str, Any]:
    """The record a leader writes when it steps down (client-go's ``ReleaseOnCancel``)."""
    stamp = micro_time(now)
    return {
        "leaseDurationSeconds": 1,
        "acquireTime": stamp,
        "renewTime": stamp,
        "leaseTransitions": int(record.get("leaseTransitions") or 0),
    }


def _seconds(duration: float) -> int:
    return max(1, round(duration))


class LeaseStore(Protocol):
    """What the elector needs of a store: reads from the server (not a cache), create, update."""

    def find(self, key: ObjectKey) -> Manifest | None: ...

    def create(self, obj: Manifest) -> Manifest: ...

    def update(self, obj: Manifest) -> Manifest: ...


class ServerReads:
    """A :class:`LeaseStore` over a KubeStore: ``find`` reads the server (the Lease is never cached or listed, so
    the RBAC needed is get, create and update on one Lease)."""

    def __init__(self, store: Any) -> None:
        self._store = store

    def find(self, key: ObjectKey) -> Manifest | None:
        try:
            found: Manifest = self._store.read(key)
        except NotFound:
            return None
        return found

    def create(self, obj: Manifest) -> Manifest:
        created: Manifest = self._store.create(obj)
        return created

    def update(self, obj: Manifest) -> Manifest:
        updated: Manifest = self._store.update(obj)
        return updated


class LeaderElector:
    """Campaigns for the Lease on a background thread; :meth:`is_leader` says whether this process may act."""

    def __init__(
        self,
        store: LeaseStore,
        config: ElectionConfig,
        *,
        wall: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store, self.config = store, config
        self._wall, self._monotonic = wall, monotonic
        self._lock = threading.Lock()
        self._observed: dict[str, Any] | None = None
        self._observed_at = 0.0
        self._renewed_at: float | None = None
        self._reached_at: float | None = None
        self._lease: Manifest | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.transitions_seen = 0

    # state

    def is_leader(self) -> bool:
        """True while we hold the Lease and renewed it within the renew deadline."""
        with self._lock:
            renewed = self._renewed_at
        return renewed is not None and self._monotonic() - renewed < self.config.renew_deadline

    def was_leader(self) -> bool:
        """True once we held the Lease at some point (a lost lease then means: exit)."""
        with self._lock:
            return self._renewed_at is not None

    def reachable(self) -> bool:
        """True when the API server answered the elector within the last renew deadline (for readiness)."""
        with self._lock:
            reached = self._reached_at
        return reached is not None and self._monotonic() - reached < self.config.renew_deadline

    # one attempt

    def try_acquire_or_renew(self) -> bool:
        """One round of client-go's ``tryAcquireOrRenew``: True when we hold the Lease afterwards."""
        config = self.config
        lease = self.store.find(config.key)
        now_mono = self._monotonic()
        with self._lock:
            self._reached_at = now_mono
        if lease is None:
            record = next_record({}, config.identity, expired=True, duration=config.lease_duration, now=self._wall())
            assert record is not None
            try:
                created = self.store.create(_lease(config, record))
            except AlreadyExists:
                return False
            return self._held(created, now_mono)
        record = record_of(lease)
        if record != self._observed:
            self._observed, self._observed_at = record, now_mono
        duration = float(record.get("leaseDurationSeconds") or config.lease_duration)
        expired = now_mono - self._observed_at >= duration
        wanted = next_record(record, config.identity, expired=expired, duration=config.lease_duration,
                             now=self._wall())  # fmt: skip
        if wanted is None:
            return False
        try:
            updated = self.store.update({**lease, "spec": wanted})
        except Conflict:
            return False
        if record.get("holderIdentity") != config.identity:
            log.info(
                "acquired lease %s/%s (previous holder %s, transitions %d)",
                config.namespace, config.name, record.get("holderIdentity") or "none", wanted["leaseTransitions"],
            )  # fmt: skip
        return self._held(updated, now_mono)

    def _held(self, lease: Manifest, at: float) -> bool:
        with self._lock:
            self._lease = lease
            self._observed, self._observed_at = record_of(lease), at
            self._renewed_at = at
        return True

    # the loop

    def start(self) -> None:
        """Campaign (and then renew) on a daemon thread until :meth:`stop`."""
        self._thread = threading.Thread(target=self._loop, name="leader-election", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.try_acquire_or_renew()
            except FleetcError as exc:
                log.warning("lease %s/%s: %s", self.config.namespace, self.config.name, exc)
            if self.was_leader() and not self.is_leader():
                log.error("lost lease %s/%s: not renewed within %.0f s", self.config.namespace, self.config.name,
                          self.config.renew_deadline)  # fmt: skip
                return
            period = self.config.retry_period
            self._stop.wait(period if self.was_leader() else period * (1 + random.random() * JITTER))

    def wait_for_leadership(self, stop: threading.Event, poll: float = 0.1) -> bool:
        """Block until we lead (True) or ``stop`` is set (False)."""
        while not stop.is_set():
            if self.is_leader():
                return True
            stop.wait(poll)
        return False

    def stop(self) -> None:
        """Stop campaigning (the Lease is left as it is; see :meth:`release`)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.config.retry_period * 3)

    def release(self) -> bool:
        """Stop campaigning and, if we hold the Lease, clear its holder so a standby takes over at once."""
        self.stop()
        if not self.is_leader():
            return False
        with self._lock:
            self._renewed_at = None
        lease = self.store.find(self.config.key)
        if lease is None or record_of(lease).get("holderIdentity") != self.config.identity:
            return False
        try:
            self.store.update({**lease, "spec": released(record_of(lease), self._wall())})
        except (Conflict, FleetcError) as exc:
            log.warning("could not release lease %s/%s: %s", self.config.namespace, self.config.name, exc)
            return False
        log.info("released lease %s/%s", self.config.namespace, self.config.name)
        return True


def _lease(config: ElectionConfig, record: dict[str, Any]) -> Manifest:
    return {
        "apiVersion": LEASE_API,
        "kind": "Lease",
        "metadata": {"name": config.name, "namespace": config.namespace},
        "spec": record,
    }
