"""The bundled ``inmemory`` infrastructure provider of the simulation, with fault injection.

It follows CAPD's ``inMemory`` backend (``test/infrastructure/docker/internal/controllers/backends/inmemory/``):
machines are records, a VM comes up after its start-up duration plus a uniform jitter of up to
``startupJitter × duration`` (``inmemorymachine_backend.go`` L229-236), then the Node, then (control plane) etcd
and the API server; ``providerID`` is ``in-memory://<machine>`` (L397). Durations come from the machine
template's ``backend.inMemory`` section when it has one (``DevMachineTemplate``), otherwise from
:attr:`InMemoryProvider.default_boot` (used for every other provider's templates, whose clusters the
simulation runs on in-memory machines too). Jitter is drawn from an RNG seeded by the simulation seed and
the machine name, so a run is reproducible. CAPD's backend has no fault injection (CAPI issue #13305); this
one does.

Faults (what fails, where, when) are described in :mod:`fleetc.sim.faults`.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from fleetc.core.errors import ProviderAPIError
from fleetc.core.keys import Manifest
from fleetc.sim.faults import CONTROL_PLANE_POOL, FAULT_LISTS, Faults, HeldDeletion
from fleetc.sim.infra import ClusterRequest, Endpoint, MachineBoot, MachineRequest, NodeFault

ENDPOINT_HOST = "10.244.2.17"
MIN_PORT, PORT_RANGE = 20000, 10000
_GO_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")


@dataclass(frozen=True)
class BootProfile:
    """Start-up durations (seconds) of a simulated machine and their jitter (fraction of each duration)."""

    vm: float = 60.0
    node: float = 30.0
    control_plane: float = 15.0
    """etcd and API server static pods, after the Node (control-plane machines only)."""
    deletion: float = 3.0
    """From the start of infrastructure deletion until the machine is gone: a replaced Machine of CAPI v1.14 with
    the in-memory backend stays 3-6 s with a ``deletionTimestamp`` (tests/capi compares the two)."""
    jitter: float = 0.2


def go_seconds(text: str) -> float:
    """A Go duration (``10s``, ``1m30s``, ``500ms``) in seconds."""
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
    parts = _GO_DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"not a Go duration: {text!r}")
    return sum(float(number) * units[unit] for number, unit in parts)


def template_profile(template: Manifest | None, default: BootProfile) -> BootProfile:
    """The boot profile a ``DevMachineTemplate`` with the in-memory backend asks for, else ``default``."""
    backend = (template or {}).get("backend", {}).get("inMemory")
    if not isinstance(backend, dict):
        return default

    def stage(part: str, fallback: float) -> tuple[float, float]:
        provisioning = backend.get(part, {}).get("provisioning", {})
        try:
            duration = go_seconds(provisioning["startupDuration"]) if "startupDuration" in provisioning else fallback
            jitter = float(provisioning.get("startupJitter", default.jitter))
        except ValueError:
            return fallback, default.jitter
        return duration, jitter

    vm, jitter = stage("vm", default.vm)
    node, _ = stage("node", default.node)
    etcd, _ = stage("etcd", default.control_plane)
    api_server, _ = stage("apiServer", default.control_plane)
    return BootProfile(vm=vm, node=node, control_plane=max(etcd, api_server), jitter=jitter)


class InMemoryProvider:
    """Simulated machines with seeded boot jitter and injected faults."""

    name = "in-memory"

    def __init__(
        self,
        *,
        seed: int = 0,
        faults: Faults | None = None,
        start: float | None = None,
        default_boot: BootProfile | None = None,
    ) -> None:
        self.seed = seed
        self._faults = faults or Faults()
        self._asks_upgrade = _asks_upgrade(self._faults)
        self.start = start
        """When the simulation started: ``providerErrors`` windows count from here (default: set by
        :func:`~fleetc.sim.plane.install`, else the time of the first call)."""
        self.default_boot = default_boot or BootProfile()
        self.calls = 0
        self._failed: dict[tuple[str, int, str, str], set[str]] = {}
        """Machines a counted entry (``failingPools``, ``nodeFailures``, ``blockedDrains``, ``stuckVolumes``) picked,
        by (list, entry, namespace, cluster): an entry's count holds for all the machines it matches in a cluster, so
        a pool spread over failure domains (one MachineDeployment per domain) loses its first N machines, not N per
        domain."""
        self._node_faults: dict[tuple[str, str], NodeFault | None] = {}
        self._drains: dict[tuple[str, str], float | None] = {}
        self._volumes: dict[tuple[str, str], float | None] = {}
        self.epoch = 0
        """Bumped when the faults change."""

    @property
    def asks_upgrade(self) -> bool:
        """True when some fault is limited to creations or to upgrades."""
        return self._asks_upgrade

    @property
    def checks_nodes(self) -> bool:
        """True when some fault makes joined Nodes go bad."""
        return bool(self._faults.node_failures)

    @property
    def faults(self) -> Faults:
        """The faults this provider simulates; setting new ones forgets which machines the old ones picked."""
        return self._faults

    @faults.setter
    def faults(self, faults: Faults) -> None:
        self._faults = faults
        self._asks_upgrade = _asks_upgrade(faults)
        self.epoch += 1
        self._failed.clear()
        self._node_faults.clear()
        self._drains.clear()
        self._volumes.clear()

    def provider_id(self, request: MachineRequest) -> str:
        return f"in-memory://{request.machine}"

    def provision_cluster(self, request: ClusterRequest, now: float) -> Endpoint:
        self._call(request.cluster, now)
        rng = random.Random(f"{self.seed}/endpoint/{request.namespace}/{request.cluster}")
        return Endpoint(ENDPOINT_HOST, MIN_PORT + rng.randrange(PORT_RANGE))

    def provision_machine(self, request: MachineRequest, now: float) -> MachineBoot:
        self._call(request.cluster, now)
        profile = template_profile(request.template, self.default_boot)
        rng = random.Random(f"{self.seed}/boot/{request.namespace}/{request.machine}")

        def jittered(duration: float) -> float:
            return duration + rng.uniform(0, profile.jitter * duration)

        vm = jittered(profile.vm)
        node = jittered(profile.node) + (jittered(profile.control_plane) if request.role == CONTROL_PLANE_POOL else 0)
        vm, node = self._slowed(request, vm, node)
        vm_at = math.ceil(now + vm)
        node_at = None if self._never_ready(request) else math.ceil(vm_at + node)
        return MachineBoot(float(vm_at), None if node_at is None else float(node_at))

    def delete_machine(self, request: MachineRequest, now: float) -> float:
        self._call(request.cluster, now)
        slow = [f.duration for f in self._faults.slow_deletions if _fits(f, request) and f.holds(**_scope(request))]
        rng = random.Random(f"{self.seed}/delete/{request.namespace}/{request.machine}")
        usual = self.default_boot.deletion * (1 + rng.uniform(0, self.default_boot.jitter))
        return math.ceil(now + max(slow, default=usual))

    def node_fault(self, request: MachineRequest, node_up_at: float) -> NodeFault | None:
        if not self._faults.node_failures:
            return None
        key = (request.namespace, request.machine)
        if key not in self._node_faults:
            self._node_faults[key] = None
            for index, fault in enumerate(self._faults.node_failures):
                if self._picked("nodeFailures", index, fault, fault.machines, request):
                    since = max(node_up_at, self.start if self.start is not None else node_up_at)
                    self._node_faults[key] = NodeFault(since + fault.after, fault.state)
                    break
        return self._node_faults[key]

    def drain_blocked_until(self, request: MachineRequest, drain_started: float) -> float | None:
        entries = self._faults.blocked_drains
        return self._held_until("blockedDrains", entries, self._drains, request, drain_started) if entries else None

    def volumes_attached_until(self, request: MachineRequest, wait_started: float) -> float | None:
        entries = self._faults.stuck_volumes
        return self._held_until("stuckVolumes", entries, self._volumes, request, wait_started) if entries else None

    def _held_until(
        self,
        field: str,
        entries: Sequence[HeldDeletion],
        memo: dict[tuple[str, str], float | None],
        request: MachineRequest,
        started: float,
    ) -> float | None:
        """Until when the first entry that picks the machine holds its deletion stage (``for`` from ``started``;
        ``math.inf``: for ever), remembered per machine; None when no entry picks it."""
        key = (request.namespace, request.machine)
        if key not in memo:
            memo[key] = None
            for index, fault in enumerate(entries):
                if self._picked(field, index, fault, fault.machines, request):
                    memo[key] = math.inf if fault.length is None else started + fault.length
                    break
        return memo[key]

    def _picked(self, field: str, index: int, fault: Any, count: int | None, request: MachineRequest) -> bool:
        """The entry matches the machine, and (when it counts machines) picked it among its first ``count``."""
        if not (_fits(fault, request) and fault.holds(**_scope(request))):
            return False
        if count is None:
            return True
        picked = self._failed.setdefault((field, index, request.namespace, request.cluster), set())
        if request.machine in picked or len(picked) < count:
            picked.add(request.machine)
            return True
        return False

    def _call(self, cluster: str, now: float) -> None:
        self.calls += 1
        if self.start is None:
            self.start = now
        for window in self._faults.provider_errors:
            begins = self.start + window.start
            if begins <= now < begins + window.length and fnmatchcase(cluster, window.cluster):
                raise ProviderAPIError(f"simulated provider API error: {window.message}")

    def _slowed(self, request: MachineRequest, vm: float, node: float) -> tuple[float, float]:
        pool = CONTROL_PLANE_POOL if request.role == CONTROL_PLANE_POOL else request.pool
        for slow in self._faults.slow_boots:
            if not fnmatchcase(request.cluster, slow.cluster) or not _pool_matches(slow.pool, pool, request):
                continue
            if not slow.holds(**_scope(request)):
                continue
            if slow.factor is not None:
                vm, node = vm * slow.factor, node * slow.factor
            elif slow.duration is not None:
                share = vm / (vm + node)
                vm, node = slow.duration * share, slow.duration * (1 - share)
        return vm, node

    def _never_ready(self, request: MachineRequest) -> bool:
        if request.role == CONTROL_PLANE_POOL:
            return any(
                fnmatchcase(request.cluster, fault.cluster) and fault.holds(**_scope(request))
                for fault in self._faults.control_plane_never_ready
            )
        return any(
            self._picked("failingPools", index, fault, fault.machines, request)
            for index, fault in enumerate(self._faults.failing_pools)
        )


def _pool_matches(pattern: str, pool: str, request: MachineRequest) -> bool:
    return fnmatchcase(pool, pattern) or bool(request.pool_class and fnmatchcase(request.pool_class, pattern))


def _asks_upgrade(faults: Faults) -> bool:
    return any(
        getattr(entry, "on_create", False) or getattr(entry, "on_upgrade", False)
        for name in FAULT_LISTS
        for entry in getattr(faults, name)
    )


def _fits(fault: Any, request: MachineRequest) -> bool:
    """The fault's cluster and pool (``control-plane``, a worker pool or its class, ``*``) name the machine."""
    pool = CONTROL_PLANE_POOL if request.role == CONTROL_PLANE_POOL else request.pool
    return fnmatchcase(request.cluster, fault.cluster) and _pool_matches(fault.pool, pool, request)


def _scope(request: MachineRequest) -> dict[str, Any]:
    """What :meth:`fleetc.sim.faults.Scope.holds` asks of a machine."""
    return {"upgrade": request.upgrade, "version": request.version, "class_revision": request.class_revision}
