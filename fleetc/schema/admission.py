"""CAPI's admission rules, checked on the spec before anything is merged (docs/design.md §3).

Each rule mirrors a check of CAPI v1.14's webhooks that the rendered objects would otherwise fail on the
management cluster, long after the pull request was merged:

- variable names: ``builtin`` is reserved and names may not contain ``.``
  (``internal/topology/variables/clusterclass_variable_validation.go``), and a class may not declare a
  variable its provider already declares (CAPI rejects a ClusterClass defining a variable twice);
- health checks: ``nodeStartupTimeout`` is 0 (off) or at least 30 s
  (``core/webhooks/admission/machinehealthcheck.go``);
- rollout waves: ``maxConcurrent`` lets at least one cluster through (0 would stall the rollout), and a
  control-plane deadline shorter than the time CAPI gives a machine to boot is a warning.

Caller: :func:`fleetc.schema.validate.validate_tree`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator

from fleetc.core.diagnostics import Diagnostic, Severity
from fleetc.schema.cluster_class import WORKER_TARGETS, ClusterClassDocument, HealthCheck, Variable
from fleetc.schema.model import Fleet
from fleetc.schema.types import format_duration

RESERVED_VARIABLE = "builtin"
MIN_NODE_STARTUP_TIMEOUT = 30
"""CAPI's ``minNodeStartupTimeoutSeconds``; 0 turns the check off."""


def check(fleet: Fleet) -> list[Diagnostic]:
    """Every admission rule over the fleet."""
    rules: list[Callable[[Fleet], Iterable[Diagnostic]]] = [
        variable_names,
        provider_variable_clashes,
        variable_patch_targets,
        node_startup_timeouts,
        wave_concurrency,
        wave_deadlines,
    ]
    return [d for rule in rules for d in rule(fleet)]


def variable_names(fleet: Fleet) -> Iterator[Diagnostic]:
    """``builtin`` is CAPI's; a ``.`` would make the variable unreachable from patch templates."""
    for entry in fleet.classes.values():
        for name in entry.document.spec.variables:
            problem = None
            if name == RESERVED_VARIABLE:
                problem = f"'{RESERVED_VARIABLE}' is a reserved variable name (CAPI's builtin variables)"
            elif "." in name:
                problem = f"variable name '{name}' may not contain '.' (CAPI rejects it)"
            elif not name:
                problem = "a variable needs a name"
            if problem:
                yield entry.origin.diagnostic(("spec", "variables", name), problem, at_key=True)


def provider_variable_clashes(fleet: Fleet) -> Iterator[Diagnostic]:
    """A class used on a provider that declares a variable may not declare one of the same name."""
    providers_of: dict[str, set[str]] = defaultdict(set)
    for cluster in fleet.clusters.values():
        providers_of[cluster.document.spec.class_].add(cluster.document.spec.provider)
    for class_name, entry in fleet.classes.items():
        for provider_name in sorted(providers_of.get(class_name, set())):
            provider = fleet.providers.get(provider_name)
            if provider is None:
                continue
            spec = provider.document.spec
            for name in sorted(set(spec.injected_variables) & set(entry.document.spec.variables)):
                message = (
                    f"variable '{name}' is declared by every {spec.type} class (provider {provider_name} uses it); "
                    "CAPI rejects a ClusterClass declaring a variable twice: rename it"
                )
                yield entry.origin.diagnostic(("spec", "variables", name), message, at_key=True)


def _patch_problems(cluster_class: ClusterClassDocument, variable: Variable) -> Iterator[tuple[int, str, str]]:
    """``(patch index, field, problem)`` for the variable's patches."""
    pools = cluster_class.spec.workers
    for index, patch in enumerate(variable.patches):
        worker = patch.template in WORKER_TARGETS
        if patch.pools and not worker:
            yield index, "pools", f"pools apply to worker templates only, not to {patch.template}"
        for pool in patch.pools:
            if pool not in pools:
                yield index, "pools", f"class {cluster_class.metadata.name} has no worker pool '{pool}'"
        if worker and not pools:
            yield index, "template", f"class {cluster_class.metadata.name} has no worker pools to patch"
        steps = patch.path.split("/")[1:]
        if any(step.isdigit() or step == "-" for step in steps[:-1]) or (steps[-1].isdigit() and steps[-1] != "0"):
            problem = "a list index may only be the last step, and only '0' or '-' (CAPI's JSON patch rules)"
            yield index, "path", problem


def variable_patch_targets(fleet: Fleet) -> Iterator[Diagnostic]:
    """A variable's patches name templates and pools of its class; a patched variable always has a value."""
    for entry in fleet.classes.values():
        for name, variable in entry.document.spec.variables.items():
            field = ("spec", "variables", name)
            for index, step, problem in _patch_problems(entry.document, variable):
                yield entry.origin.diagnostic((*field, "patches", index, step), problem)
            if variable.patches and not variable.required and variable.default is None:
                message = (
                    f"variable {name} is written into templates, so it needs a default or required: true "
                    "(CAPI cannot patch in a variable that has no value)"
                )
                yield entry.origin.diagnostic(field, message, at_key=True)


def _health_checks(cluster_class: ClusterClassDocument) -> Iterator[tuple[tuple[str, ...], HealthCheck]]:
    spec = cluster_class.spec
    yield ("spec", "healthCheck"), spec.health_check
    if spec.control_plane.health_check is not None:
        yield ("spec", "controlPlane", "healthCheck"), spec.control_plane.health_check
    for name, pool in spec.workers.items():
        if pool.health_check is not None:
            yield ("spec", "workers", name, "healthCheck"), pool.health_check


def node_startup_timeouts(fleet: Fleet) -> Iterator[Diagnostic]:
    """``nodeStartupTimeout`` is 0 (no check) or at least 30 s."""
    for entry in fleet.classes.values():
        for field, health_check in _health_checks(entry.document):
            timeout = health_check.node_startup_timeout
            if 0 < timeout < MIN_NODE_STARTUP_TIMEOUT:
                message = (
                    f"nodeStartupTimeout {format_duration(timeout)} is below CAPI's minimum of "
                    f"{MIN_NODE_STARTUP_TIMEOUT}s (0s turns the check off)"
                )
                yield entry.origin.diagnostic((*field, "nodeStartupTimeout"), message)


def wave_concurrency(fleet: Fleet) -> Iterator[Diagnostic]:
    """A wave lets at least one cluster through at a time."""
    entry = fleet.settings
    for index, wave in enumerate(entry.document.spec.rollout.waves):
        if wave.max_concurrent.value == 0:
            message = f"maxConcurrent {wave.max_concurrent} lets no cluster of wave {wave.name} through"
            yield entry.origin.diagnostic(("spec", "rollout", "waves", index, "maxConcurrent"), message)


def wave_deadlines(fleet: Fleet) -> Iterator[Diagnostic]:
    """Warn when a wave's control-plane deadline is shorter than the boot time CAPI allows its machines."""
    entry = fleet.settings
    for index, wave in enumerate(entry.document.spec.rollout.waves):
        slowest: tuple[int, str] | None = None
        for cluster in fleet.clusters.values():
            cluster_class = fleet.classes.get(cluster.document.spec.class_)
            cluster_wave = fleet.wave_of(cluster.document)
            if cluster_class is None or cluster_wave is None or cluster_wave.name != wave.name:
                continue
            spec = cluster_class.document.spec
            timeout = (spec.control_plane.health_check or spec.health_check).node_startup_timeout
            if slowest is None or timeout > slowest[0]:
                slowest = (timeout, cluster_class.document.metadata.name)
        if slowest is not None and wave.control_plane_deadline < slowest[0]:
            message = (
                f"controlPlaneDeadline {format_duration(wave.control_plane_deadline)} is shorter than the "
                f"{format_duration(slowest[0])} class {slowest[1]} gives a control-plane machine to boot "
                "(nodeStartupTimeout): clusters fail before CAPI would even remediate a slow machine"
            )
            yield entry.origin.diagnostic(
                ("spec", "rollout", "waves", index, "controlPlaneDeadline"), message, severity=Severity.WARNING
            )
