"""The Flux objects of a pull-based, staged rollout: one Flux ``Kustomization`` per rollout wave.

Caller: :func:`fleetc.render.build.build` (``fleetc build``), which writes what :func:`flux_objects` returns under
``flux/`` in the output tree. Pure: no files, no cluster.

Flux applies ``<out>/classes`` first (the ClusterClass revisions), then ``<out>/waves/<wave>`` one wave after the
other: each wave's Kustomization ``dependsOn`` the previous one, and Flux only starts a Kustomization whose
dependencies are Ready. A wave is Ready when every CAPI Cluster in it passes its health check, so a wave whose
clusters fail (or do not come up within the wave's ``controlPlaneDeadline``, the Kustomization's ``timeout``) halts
every later wave. ``maxConcurrent``, ``soak`` and ``failureBudget`` have no Flux equivalent: Flux applies a whole
wave at once and any failed cluster blocks the next wave; ``fleetc apply`` implements those gates.

Flux's default health assessment (kstatus) does not understand CAPI v1beta2 status, so the Kustomizations carry
``healthCheckExprs``: CEL expressions over a ``cluster.x-k8s.io/v1beta2`` ``Cluster`` (see :data:`CLUSTER_HEALTH`
and ``docs/design.md`` §6). Flux evaluates ``inProgress``, then ``failed``, then
``current`` and takes the first that is true (none true: in progress); ours are mutually exclusive and cover every
case, so the order does not matter. An expression that cannot be evaluated (a Cluster with no ``status`` at all,
just after it is created) leaves the Cluster's status unknown, and Flux keeps polling as for "in progress".

Removing a cluster (docs/spec.md, "Removing a cluster"): the wave Kustomizations prune, and every rendered Cluster
carries :data:`PRUNE_ANNOTATION` (:func:`removal_marks`). Flux deletes an object that left a pruning Kustomization's
inventory unless the *live* object is annotated ``kustomize.toolkit.fluxcd.io/prune: disabled``, so a cluster removed
from the spec is orphaned (left running, no longer managed), as with ``fleetc apply``, and so is a cluster moving to
another wave. A cluster marked ``decommission: true`` is rendered with ``enabled`` (and ``fleetc.io/decommission``);
once Flux has applied that, removing its entry deletes it. Flux decides on the live object, so marking and removing
take two merges, the same two steps ``fleetc apply`` needs.

Class revisions no cluster uses any more (:func:`revisions_kustomization`): ``fleetc build`` writes only the
revisions the fleet's clusters use, and a last Kustomization, ``<fleet>-revisions``, applies exactly those
(``<out>/revisions``) with ``prune: true`` once the last wave is Ready. Flux only starts it after every wave has
applied the current source revision and is healthy, so by then no Cluster references a revision that left the
build, and CAPI lets it be deleted. The classes Kustomization, which must create a new revision before the first
wave, never prunes and applies revisions with ``kustomize.toolkit.fluxcd.io/ssa: IfNotPresent`` (a Flux patch):
it creates a new revision but never re-applies an existing one, so it never takes back the ownership labels Flux
checks before pruning, and the revisions Kustomization is the one that deletes. Pruning earlier (on the classes
Kustomization) would try to delete a revision the clusters of later waves still use; CAPI refuses that, and the
failed prune would hold back every wave.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fleetc.contract.vocabulary import CAPI_API as CLUSTER_API
from fleetc.core.errors import OptionError
from fleetc.core.keys import Manifest
from fleetc.render.names import DECOMMISSION_ANNOTATION, FLEET_LABEL, WAVE_LABEL, content_hash
from fleetc.render.rendered import RenderedSet, WaveClusters
from fleetc.schema.types import format_duration

KUSTOMIZATION_API = "kustomize.toolkit.fluxcd.io/v1"
SOURCE_KINDS = ("GitRepository", "OCIRepository", "Bucket", "ExternalArtifact")
MAX_NAME = 63
"""Flux labels every object it applies with the Kustomization's name: the name must be a valid label value."""
_FLUX_DURATION = re.compile(r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
SSA_ANNOTATION = "kustomize.toolkit.fluxcd.io/ssa"
"""``IfNotPresent``: Flux creates the object when it is missing and otherwise leaves it (and its labels) alone."""
REVISION_KINDS = "ClusterClass|.*Template"
"""The kinds of a class revision's objects, as a kustomize target (a regular expression)."""
FLUX_GATES = (
    "Target Flux: maxConcurrent, soak and failureBudget are not enforced. Flux applies each wave whole, any "
    "failed cluster (its health check, or the wave's controlPlaneDeadline as the Kustomization timeout) holds "
    "back every later wave, and the next wave starts as soon as one is healthy; fleetc apply enforces them."
)
"""What a rollout through the Flux Kustomizations does with the wave gates (said by ``fleetc plan --target flux``)."""
PRUNE_ANNOTATION = "kustomize.toolkit.fluxcd.io/prune"
"""Flux never prunes a live object carrying this with the value ``disabled`` (any other value: it may)."""


def removal_marks(decommission: bool) -> dict[str, str]:
    """The annotations that say what removing a cluster from the spec does: orphan it, or (marked) delete it."""
    if decommission:
        return {DECOMMISSION_ANNOTATION: "true", PRUNE_ANNOTATION: "enabled"}
    return {PRUNE_ANNOTATION: "disabled"}


@dataclass(frozen=True, kw_only=True)
class FluxOptions:
    """Where the Flux Kustomizations live and where they read the build output from."""

    path: str
    """The build output's path inside the source, such as ``./clusters/out``."""
    source_kind: str = "GitRepository"
    source_name: str = "flux-system"
    source_namespace: str | None = None
    """The source's namespace; None: the Kustomizations' own namespace."""
    namespace: str = "flux-system"
    """The namespace of the Kustomizations."""
    interval: str = "10m"
    """How often Flux reconciles each Kustomization (a Flux duration such as ``10m``)."""
    retry_interval: str | None = None
    """How soon Flux retries a Kustomization that failed; None: Flux's default (the interval)."""

    def __post_init__(self) -> None:
        """Refuse a source kind Flux does not have, a duration Flux cannot parse and a namespace that is no
        DNS label (:class:`OptionError`)."""
        if self.source_kind not in SOURCE_KINDS:
            raise OptionError(f"Flux source kind '{self.source_kind}' is not one of {', '.join(SOURCE_KINDS)}")
        if not _FLUX_DURATION.match(self.interval):
            raise OptionError(f"Flux interval '{self.interval}' is not a duration such as '10m' or '1h30m'")
        if self.retry_interval is not None and not _FLUX_DURATION.match(self.retry_interval):
            raise OptionError(f"Flux retry interval '{self.retry_interval}' is not a duration such as '2m'")
        if not _DNS_LABEL.match(self.namespace):
            raise OptionError(f"Flux namespace '{self.namespace}' is not a namespace name (a DNS label)")


# --- CEL health expressions for a CAPI v1beta2 Cluster ------------------------------------------------------------
# Flux binds the object's top-level fields (apiVersion, kind, metadata, spec, status) as CEL variables.


def _top_level_or(expression: str) -> bool:
    """True when ``expression`` has an ``||`` outside every parenthesis."""
    depth = 0
    for index, char in enumerate(expression):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0 and expression.startswith("||", index):
            return True
    return False


def _all(*parts: str) -> str:
    """Every part holds (``&&`` binds tighter than ``||``: parts with a top-level ``||`` get parentheses)."""
    return " && ".join(f"({part})" if _top_level_or(part) else part for part in parts)


def _any(*parts: str) -> str:
    """At least one part holds."""
    return " || ".join(parts)


def _not(part: str) -> str:
    return f"!({part})"


def condition(type_: str, status: str, *, reason: str | None = None, fresh: bool = False) -> str:
    """Condition ``type_`` has ``status`` (and ``reason``; ``fresh``: written for the current generation).

    Callers guard with :data:`HAS_CONDITIONS`.
    """
    tests = [f"c.type == '{type_}'", f"c.status == '{status}'"]
    if reason is not None:
        tests.append(f"has(c.reason) && c.reason == '{reason}'")
    if fresh:
        tests.append("(!has(c.observedGeneration) || c.observedGeneration == metadata.generation)")
    return f"status.conditions.exists(c, {' && '.join(tests)})"


def at_topology_version(side: str) -> str:
    """Every machine counted in ``status.<side>.versions`` (CAPI v1.14) runs ``spec.topology.version``.

    The list counts machines per kubelet version; during an upgrade it holds the old and the new one.
    """
    return f"status.{side}.versions.all(v, has(v.version) && v.version == spec.topology.version)"


def no_upgrade_plan(side: str) -> str:
    """``status.<side>.upgradePlan`` is absent or empty: CAPI plans no further upgrade step for ``side``."""
    return _any(f"!has(status.{side})", f"!has(status.{side}.upgradePlan)", f"status.{side}.upgradePlan.size() == 0")


HAS_CONDITIONS = "has(status.conditions)"

GENERATION_OBSERVED = "has(status.observedGeneration) && status.observedGeneration == metadata.generation"
"""The Cluster controller has seen the latest spec (Flux checks this too, before any expression)."""

AVAILABLE = condition("Available", "True", fresh=True)
"""Control plane, workers, remote connection and topology are all available (CAPI's summary)."""

NOT_ROLLING_OUT = condition("RollingOut", "False", fresh=True)
"""No control plane or worker machine is out of date (an upgrade or a template change is finished)."""

TOPOLOGY_RECONCILED = condition("TopologyReconciled", "True", fresh=True)
"""The topology controller has applied this generation and has nothing left to do.

False/ClusterUpgrading during every normal upgrade; ``fresh`` also catches a class rebase not yet picked up.
"""

CONTROL_PLANE_AT_VERSION = _all(
    "has(spec.topology) && has(spec.topology.version)",
    "has(status.controlPlane) && has(status.controlPlane.versions)",
    "status.controlPlane.versions.size() > 0",
    at_topology_version("controlPlane"),
)
"""Every control plane machine runs the topology version (and there is at least one)."""

WORKERS_AT_VERSION = _any("!has(status.workers)", "!has(status.workers.versions)", at_topology_version("workers"))
"""Every worker machine runs the topology version (vacuously true for a cluster without workers)."""

NO_UPGRADE_PLANNED = _all(no_upgrade_plan("controlPlane"), no_upgrade_plan("workers"))
"""No pending (chained) upgrade step for the control plane or the workers."""

HEALTHY = _all(
    GENERATION_OBSERVED,
    HAS_CONDITIONS,
    AVAILABLE,
    NOT_ROLLING_OUT,
    TOPOLOGY_RECONCILED,
    CONTROL_PLANE_AT_VERSION,
    WORKERS_AT_VERSION,
    NO_UPGRADE_PLANNED,
)
"""What a finished whole-cluster step shows on the Cluster object (status fixtures README §4.2)."""

CONTROL_PLANE_REMEDIATING = (
    "status.conditions.exists(c, c.type == 'Remediating' && c.status == 'True' && "
    "(!has(spec.controlPlaneRef) || !has(c.message) || c.message.contains(' ' + spec.controlPlaneRef.name + '-')))"
)
"""A control-plane machine is being remediated (or cannot be: ``CannotBeRemediated``).

The Cluster's ``Remediating`` condition lists the machines (``* Machine <name>: …``); control-plane machines are
named ``<KubeadmControlPlane>-<suffix>``, and the Cluster's ``spec.controlPlaneRef`` names the
KubeadmControlPlane. Never part of a healthy rollout: a new control-plane machine that never got a Node
(NodeStartupTimeout) or exhausted its retries; CAPI keeps retrying on its own, so this is the earliest point to
stop promoting the change. A worker machine being replaced is routine (a MachineHealthCheck doing its job) and
does not fail the wave: the Cluster stays in progress, or current while it is still Available. Without a
``controlPlaneRef`` or a message, the machines cannot be told apart and the remediation counts as failed.
"""

TOPOLOGY_RECONCILE_FAILED = condition("TopologyReconciled", "False", reason="ReconcileFailed")
"""The topology controller failed to reconcile the Cluster (a rejected patch, a broken ClusterClass…).

``ClusterUpgrading`` and friends are normal, and ``ClusterClassNotReconciled`` is a wait (a new class revision not
yet reconciled): both stay "in progress", bounded by the wave's timeout.
"""

FAILED = _all(HAS_CONDITIONS, _any(CONTROL_PLANE_REMEDIATING, TOPOLOGY_RECONCILE_FAILED))
"""Explicit CAPI failure signals. A control plane that never comes up (no signal, only time) fails by the timeout."""


@dataclass(frozen=True)
class HealthExpressions:
    """The three CEL expressions of a Flux custom health check."""

    current: str
    failed: str
    in_progress: str


CLUSTER_HEALTH = HealthExpressions(
    current=_all(HEALTHY, _not(FAILED)),
    failed=FAILED,
    in_progress=_all(_not(FAILED), _not(HEALTHY)),
)
"""Health of a ``cluster.x-k8s.io/v1beta2`` Cluster: exactly one expression is true for any Cluster with a status."""


def cluster_health_check() -> Manifest:
    """The ``healthCheckExprs`` entry for CAPI v1beta2 Clusters."""
    return {
        "apiVersion": CLUSTER_API,
        "kind": "Cluster",
        "current": CLUSTER_HEALTH.current,
        "failed": CLUSTER_HEALTH.failed,
        "inProgress": CLUSTER_HEALTH.in_progress,
    }


# --- Kustomizations -------------------------------------------------------------------------------------------------


def object_name(*parts: str) -> str:
    """``parts`` joined by ``-``; shortened with a hash when longer than a label value may be."""
    name = "-".join(parts)
    if len(name) <= MAX_NAME:
        return name
    digest = content_hash(name)
    return f"{name[: MAX_NAME - len(digest) - 1].rstrip('-')}-{digest}"


def classes_name(fleet: str) -> str:
    """The name of the Kustomization that applies the class revisions."""
    return object_name(fleet, "classes")


def wave_name(fleet: str, wave: str) -> str:
    """The name of the Kustomization that applies one wave's clusters."""
    return object_name(fleet, "wave", wave)


def source_path(options: FluxOptions, *parts: str) -> str:
    """A folder of the build output as a path inside the Flux source (``./out`` + ``classes`` → ``./out/classes``)."""
    base = options.path.rstrip("/") or "."
    return "/".join((base, *parts))


def _source_ref(options: FluxOptions) -> Manifest:
    ref: Manifest = {"kind": options.source_kind, "name": options.source_name}
    if options.source_namespace is not None:
        ref["namespace"] = options.source_namespace
    return ref


def _retry(options: FluxOptions) -> Manifest:
    return {"retryInterval": options.retry_interval} if options.retry_interval is not None else {}


def _kustomization(name: str, labels: dict[str, str], options: FluxOptions, spec: Manifest) -> Manifest:
    return {
        "apiVersion": KUSTOMIZATION_API,
        "kind": "Kustomization",
        "metadata": {"name": name, "namespace": options.namespace, "labels": dict(sorted(labels.items()))},
        "spec": {"interval": options.interval, **_retry(options), "sourceRef": _source_ref(options), **spec},
    }


def revisions_name(fleet: str) -> str:
    """The name of the Kustomization that removes class revisions no cluster uses any more."""
    return object_name(fleet, "revisions")


def classes_kustomization(fleet: str, options: FluxOptions) -> Manifest:
    """The Kustomization of ``<out>/classes``: every ClusterClass revision (and the management namespaces)."""
    create_only = f'[{{"op": "add", "path": "/metadata/annotations/{SSA_ANNOTATION.replace("/", "~1")}", '
    create_only += '"value": "IfNotPresent"}]'
    spec: Manifest = {
        "path": source_path(options, "classes"),
        # Never prune: a class revision that left the build is still referenced by the clusters of every wave not
        # yet released (each cluster moves to the new revision only when its own wave applies), and CAPI rejects
        # deleting a ClusterClass that a Cluster uses. The revisions Kustomization removes it after the last wave.
        "prune": False,
        "wait": False,
        # Create revisions, never re-apply them: re-applying would make this Kustomization their owner again, and
        # the revisions Kustomization prunes only what it owns.
        "patches": [{"patch": create_only, "target": {"kind": REVISION_KINDS}}],
    }
    return _kustomization(classes_name(fleet), {FLEET_LABEL: fleet}, options, spec)


def revisions_kustomization(fleet: str, depends_on: str, options: FluxOptions) -> Manifest:
    """The Kustomization of ``<out>/revisions``, after the last wave: prunes the revisions that left the build."""
    spec: Manifest = {"path": source_path(options, "revisions"), "dependsOn": [{"name": depends_on}]}
    spec |= {"prune": True, "wait": False}
    return _kustomization(revisions_name(fleet), {FLEET_LABEL: fleet}, options, spec)


def cluster_health_checks(wave: WaveClusters) -> list[Manifest]:
    """The wave's CAPI Clusters, as Flux ``healthChecks`` references."""
    return [
        {"apiVersion": CLUSTER_API, "kind": "Cluster", "name": name, "namespace": wave.namespaces[name]}
        for name in wave.clusters
    ]


def wave_kustomization(fleet: str, wave: WaveClusters, depends_on: str, options: FluxOptions) -> Manifest:
    """The Kustomization of ``<out>/waves/<wave>``, started once ``depends_on`` is Ready."""
    spec: Manifest = {
        "path": source_path(options, "waves", wave.wave.name),
        "dependsOn": [{"name": depends_on}],
        # Prune, so a cluster marked for decommissioning is deleted when its entry is removed. Every other Cluster
        # carries kustomize.toolkit.fluxcd.io/prune: disabled (removal_marks), which Flux reads on the live object:
        # leaving the fleet, or moving to a later wave (this wave reconciles first and still owns it), orphans it.
        "prune": True,
        # Health-check only the Clusters below, with the CEL expressions, not kstatus on every applied object.
        "wait": False,
        "timeout": format_duration(wave.wave.control_plane_deadline),
        "healthChecks": cluster_health_checks(wave),
        "healthCheckExprs": [cluster_health_check()],
    }
    return _kustomization(
        wave_name(fleet, wave.wave.name), {FLEET_LABEL: fleet, WAVE_LABEL: wave.wave.name}, options, spec
    )


def flux_objects(rendered: RenderedSet, options: FluxOptions, *, prune_revisions: bool = True) -> list[Manifest]:
    """The classes Kustomization, one per wave in rollout order (each depending on the one before), and the
    revisions Kustomization after the last (``prune_revisions``; a build of some clusters only has none, as its
    tree lacks the revisions of the others)."""
    objects = [classes_kustomization(rendered.fleet, options)]
    for wave in rendered.waves:
        objects.append(wave_kustomization(rendered.fleet, wave, objects[-1]["metadata"]["name"], options))
    if prune_revisions:
        objects.append(revisions_kustomization(rendered.fleet, objects[-1]["metadata"]["name"], options))
    return objects
