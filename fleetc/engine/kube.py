"""fleetc on a real management cluster: the rollout controller over a :class:`~fleetc.runtime.kube.KubeStore`.

The same composition as :mod:`fleetc.engine.local` without the simulation: a store on the API server, a real clock,
a :class:`~fleetc.runtime.manager.Manager` woken by watch events, and the FleetRollout controller
(:func:`fleetc.rollout.install`) applying through server-side apply with field manager ``fleetc``. The rollout
state (FleetRollout, ClusterRollouts, FleetRevision) lives in the management cluster, so a rerun after a kill
resumes where the last run stopped, and ``fleetc rollout pause`` from anywhere is seen by a running ``apply``.

Callers: ``fleetc apply --context/--kubeconfig`` (:func:`roll_out`, :func:`dry_run`, :func:`submit_only`),
``fleetc rollout …`` and ``fleetc status`` against a management cluster, and the in-cluster controller
(``fleetc controller run`` calls :func:`run_rollouts`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from fleetc import rollout
from fleetc.core.errors import NoRolloutError, NotFound, Rejected, TerminalError
from fleetc.core.keys import Manifest, ObjectKey
from fleetc.engine.notify import Notifier, secret_resolver
from fleetc.engine.runner import Claim
from fleetc.rollout import Apply, RolloutPlan, RolloutView, crds
from fleetc.rollout.controller import RESYNC_SECONDS
from fleetc.rollout.desired import rollout_objects
from fleetc.rollout.model import FLEET_ROLLOUT, GROUP
from fleetc.runtime.clock import Clock, RealClock
from fleetc.runtime.kube import KubeStore
from fleetc.runtime.manager import Manager
from fleetc.sim.faults import Faults
from fleetc.sim.inmemory import InMemoryProvider
from fleetc.sim.plane import install as install_simulation

POLL_SECONDS = 1.0
"""How often a waiting ``apply`` looks at the rollout (progress output); watch events wake it sooner."""
CRD_ESTABLISHED_SECONDS = 60.0
CRD_KEY = ObjectKey("apiextensions.k8s.io", "CustomResourceDefinition", "", "")


@dataclass
class KubePlane:
    """The rollout controller running on a management cluster, in this process."""

    store: KubeStore
    clock: Clock
    manager: Manager
    notifier: Notifier | None = None
    """Sends the rollout's notifications (:mod:`fleetc.engine.notify`) while this process runs it."""


def applier(store: KubeStore, *, force: bool = False) -> Apply:
    """Server-side apply as field manager ``fleetc``; an object the API server rejects (schema, CEL, admission)
    fails its cluster instead of being retried (:class:`TerminalError`)."""

    def apply(manifest: Manifest) -> None:
        try:
            store.apply(manifest, force=force)
        except Rejected as exc:
            raise TerminalError(str(exc)) from exc

    return apply


def open_plane(
    store: KubeStore,
    *,
    controllers: bool = True,
    force: bool = False,
    notify: bool = False,
    only: ObjectKey | None = None,
) -> KubePlane:
    """A manager over ``store`` with a real clock and, with ``controllers``, the rollout controller on it; with
    ``notify``, the rollout's notifications are sent from here on (receiver URLs from env or Secrets). ``only``: this
    process carries out (and notifies for) that FleetRollout alone, as ``fleetc apply``/``rollout resume`` do; the
    in-cluster controller carries out every one."""
    clock = RealClock()
    manager = Manager(store, clock)
    if controllers:
        rollout.install(manager, applier(store, force=force), resync=RESYNC_SECONDS, only=only)
    resolve = secret_resolver(secret_reader(store))
    notifier = Notifier(store, resolve, since=clock.now() - 1, only=only) if notify else None
    return KubePlane(store, clock, manager, notifier)


def secret_reader(store: KubeStore) -> Callable[[ObjectKey], Manifest | None]:
    """One GET per read (Secrets are never cached nor watched); None when there is no such object."""

    def read(key: ObjectKey) -> Manifest | None:
        try:
            return store.read(key)
        except NotFound:
            return None

    return read


SIMULATED_KINDS = (
    ("", "Namespace"),
    ("cluster.x-k8s.io", "Cluster"),
    ("cluster.x-k8s.io", "ClusterClass"),
    ("cluster.x-k8s.io", "Machine"),
    ("cluster.x-k8s.io", "MachineDeployment"),
    ("cluster.x-k8s.io", "MachineHealthCheck"),
    ("cluster.x-k8s.io", "MachineSet"),
    ("controlplane.cluster.x-k8s.io", "KubeadmControlPlane"),
    ("controlplane.cluster.x-k8s.io", "KubeadmControlPlaneTemplate"),
    ("bootstrap.cluster.x-k8s.io", "KubeadmConfigTemplate"),
    ("infrastructure.cluster.x-k8s.io", "DevCluster"),
    ("infrastructure.cluster.x-k8s.io", "DevClusterTemplate"),
    ("infrastructure.cluster.x-k8s.io", "DevMachineTemplate"),
)
"""What the simulated CAPI controllers read: informed before they start (their cache lists the store's kinds once)."""


def open_simulated_plane(
    store: KubeStore, *, speed: float = 600.0, seed: int = 0, faults: Faults | None = None
) -> KubePlane:
    """The simulated CAPI controllers (:mod:`fleetc.sim`) and the rollout controller over a real API server, so a
    whole simulated rollout happens through it (``kubectl get clusters,fleetrollouts -A`` shows it). Real time ×
    ``speed``: a virtual clock would run ahead of the watch events the server has not delivered yet."""
    clock = RealClock(speed)
    for group, kind in SIMULATED_KINDS:
        store.inform(group, kind)
    manager = Manager(store, clock)
    install_simulation(manager, InMemoryProvider(seed=seed, faults=faults or Faults(), start=clock.now()), seed=seed)
    rollout.install(manager, applier(store), resync=RESYNC_SECONDS)
    return KubePlane(store, clock, manager)


def crds_installed(store: KubeStore) -> bool:
    """True when the API server serves fleetc's kinds."""
    try:
        store.api.resource(GROUP, FLEET_ROLLOUT)
    except NotFound:
        return False
    return True


def ensure_crds(store: KubeStore, *, timeout: float = CRD_ESTABLISHED_SECONDS) -> bool:
    """Install fleetc's CRDs (server-side apply) unless the server serves them; True when it installed them."""
    if crds_installed(store):
        return False
    names = []
    for definition in crds.crds():
        store.apply(definition)
        names.append(definition["metadata"]["name"])
    deadline = time.monotonic() + timeout
    while not all(_established(store, name) for name in names):
        if time.monotonic() > deadline:
            raise TerminalError(f"fleetc's CRDs were not Established within {timeout:.0f} s: {', '.join(names)}")
        time.sleep(0.2)
    store.api.forget_discovery()
    return True


def _established(store: KubeStore, name: str) -> bool:
    found = store.read(ObjectKey(CRD_KEY.group, CRD_KEY.kind, "", name))
    conditions = found.get("status", {}).get("conditions", [])
    return any(c.get("type") == "Established" and c.get("status") == "True" for c in conditions)


def submit_only(store: KubeStore, plan: RolloutPlan, *, allow_delete: bool = False) -> RolloutView:
    """Create or update the rollout objects and return (``--detach``: the in-cluster controller carries it out)."""
    key = rollout.submit(store, plan, allow_delete=allow_delete)
    return view_of(store, key)


def roll_out(
    plane: KubePlane,
    plan: RolloutPlan,
    *,
    on_step: Callable[[], None] | None = None,
    poll: float = POLL_SECONDS,
    timeout: float | None = None,
    allow_delete: bool = False,
    claim: Claim | None = None,
) -> RolloutView:
    """Submit the rollout (idempotent: a rerun resumes) and run the controller until it completes or halts.

    A pause (``spec.paused``, set by anyone) is honoured: no cluster starts until a resume; the call keeps waiting.
    ``allow_delete``: as for the embedded plane (:func:`fleetc.engine.local.roll_out`). ``claim``: the runner claim
    this process holds on the rollout (:func:`fleetc.engine.runner.claimed`): once it is lost, stop at once.
    """
    key = rollout.submit(plane.store, plan, allow_delete=allow_delete)
    run_until_settled(plane, key, on_step=on_step, poll=poll, timeout=timeout, claim=claim)
    return view_of(plane.store, key)


def run_until_settled(
    plane: KubePlane,
    key: ObjectKey,
    *,
    on_step: Callable[[], None] | None = None,
    poll: float = POLL_SECONDS,
    timeout: float | None = None,
    claim: Claim | None = None,
) -> None:
    """Reconcile until the rollout is complete or halted (its latest spec and resume observed); with ``claim``, raise
    :class:`~fleetc.core.errors.ClaimLostError` as soon as it is lost (see :func:`roll_out`)."""
    started = time.monotonic()
    done = False

    def until() -> bool:
        lost = claim is not None and not claim.holding()
        return lost or rollout.settled(plane.store, key, wait_when_paused=True)

    while not done:
        done = plane.manager.run(until, deadline=plane.clock.now() + poll)
        if claim is not None:
            claim.check()
        if on_step is not None:
            on_step()
        if timeout is not None and time.monotonic() - started > timeout:
            view = view_of(plane.store, key)
            raise TerminalError(f"rollout {key.name} did not settle within {timeout:.0f} s (phase {view.phase})")


def run_rollouts(
    store: KubeStore, *, stop: Callable[[], bool], poll: float = POLL_SECONDS, force: bool = False
) -> KubePlane:
    """Reconcile every FleetRollout the store sees until ``stop()`` holds (the long-running controller's loop)."""
    plane = open_plane(store, force=force)
    while not stop():
        plane.manager.run(stop, deadline=plane.clock.now() + poll)
    return plane


def view_of(store: KubeStore, key: ObjectKey) -> RolloutView:
    """The rollout's view; :class:`NoRolloutError` when there is none."""
    view = rollout.read_rollout(store, key)
    if view is None:
        raise NoRolloutError(f"no rollout {key.namespace}/{key.name} on {store.server}")
    return view


def only_rollout(store: KubeStore, namespace: str | None = None) -> ObjectKey:
    """The key of the one FleetRollout on the server (in ``namespace`` when given)."""
    if not crds_installed(store):
        raise NoRolloutError(f"no rollout on {store.server}: fleetc's CRDs are not installed (fleetc install)")
    found = store.list(GROUP, FLEET_ROLLOUT, namespace)
    if not found:
        raise NoRolloutError(f"no rollout on {store.server} yet: run fleetc apply --context first")
    if len(found) > 1:
        names = ", ".join(f"{f['metadata']['namespace']}/{f['metadata']['name']}" for f in found)
        raise NoRolloutError(f"several rollouts on {store.server} ({names}): name one with --namespace/--fleet")
    return ObjectKey.of(found[0])


# --- dry run ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rejection:
    """One object the API server refused in a dry run, and where it came from."""

    key: ObjectKey
    where: str
    """``file:line`` of the spec document that produced the object, else ``Kind/name``."""
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.key.kind} {self.key.name}: {self.message}"


@dataclass(frozen=True)
class DryRun:
    """What a server-side dry run found."""

    checked: int
    rejections: tuple[Rejection, ...]
    unchecked: tuple[str, ...]
    """Why some objects could not be checked (a namespace this apply would create first…)."""


Locate = Callable[[Manifest], str | None]


def dry_run(store: KubeStore, plan: RolloutPlan, locate: Locate | None = None) -> DryRun:
    """Send every object of the rollout with ``dryRun=All``: namespaces, class revisions, the rollout objects and
    every cluster's objects; collect what the API server rejects (CRD schema, CEL rules, admission)."""
    rollout_obj, revision, clusters = rollout_objects(plan, owner_uid="00000000-0000-0000-0000-000000000000")
    objects = [*plan.prerequisites, *(o for c in plan.clusters for o in c.objects)]
    fleetc_objects = [rollout_obj, revision, *clusters] if crds_installed(store) else []
    created = {o["metadata"]["name"] for o in plan.prerequisites if o["kind"] == "Namespace"}
    existing = _existing_namespaces(store, created)
    rejections: list[Rejection] = []
    unchecked: dict[str, int] = {}
    checked = 0
    for obj in [*objects, *fleetc_objects]:
        namespace = obj["metadata"].get("namespace", "")
        if namespace and namespace in created and namespace not in existing:
            unchecked[namespace] = unchecked.get(namespace, 0) + 1
            continue
        checked += 1
        try:
            store.apply(obj, dry_run=True)
        except Rejected as exc:
            key = ObjectKey.of(obj)
            where = (locate(obj) if locate is not None else None) or f"{key.kind}/{key.name}"
            rejections.extend(Rejection(key, where, cause) for cause in exc.causes or [exc.message])
    notes = [f"{n} objects in namespace {ns}: not checked (the namespace does not exist yet)" for ns, n in
             unchecked.items()]  # fmt: skip
    if not fleetc_objects:
        notes.append("the rollout objects: not checked (fleetc's CRDs are not installed: fleetc install)")
    return DryRun(checked, tuple(rejections), tuple(notes))


def _existing_namespaces(store: KubeStore, names: Iterable[str]) -> set[str]:
    found = set()
    for name in names:
        try:
            store.read(ObjectKey("", "Namespace", "", name))
        except NotFound:
            continue
        found.add(name)
    return found
