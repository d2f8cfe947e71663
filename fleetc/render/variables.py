"""Class variables that reach their templates: one ClusterClass patch per variable with ``patches``.

Each ``VariablePatch`` (``template`` + ``path``) becomes a definition whose selector matches that template of the
class and whose JSON patch writes the variable (``valueFrom.variable``) at ``spec.template.spec`` + ``path``.
CAPI applies JSON patches without creating missing parents, and kubeadm sections may not be written empty
(``minProperties: 1``), so a parent the rendered template lacks is added as ``{}`` (or ``[]``) by the same
patch, just before the value: CAPI validates the object only after every patch. Parents a provider patch adds
are left alone. A string variable whose value is empty disables its patch (``enabledIf``), so an empty default
means "leave the template as it is".

Caller: :mod:`fleetc.render.clusterclass`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from fleetc.contract.vocabulary import BOOTSTRAP_API, CONTROL_PLANE_API
from fleetc.core.keys import Manifest
from fleetc.render.providers.base import InfraKinds
from fleetc.schema.cluster_class import WORKER_TARGETS, ClusterClassDocument, Variable, VariablePatch

TEMPLATE_SPEC = "/spec/template/spec"


@dataclass(frozen=True)
class ClassTemplates:
    """The rendered templates of a class revision, by role (workers by pool)."""

    infrastructure_cluster: Manifest
    control_plane: Manifest
    control_plane_machine: Manifest
    worker_bootstrap: Mapping[str, Manifest]
    worker_machine: Mapping[str, Manifest]
    machine_pools: frozenset[str] = frozenset()
    """Pools that are CAPI MachinePools (selected as ``machinePoolClass``, not ``machineDeploymentClass``)."""


def _steps(path: str) -> list[str]:
    return path.split("/")[1:]


def _missing_parents(template: Manifest, path: str, provided: frozenset[str]) -> list[Manifest]:
    """``add`` operations creating the parents of ``path`` the template lacks (none a provider patch adds)."""
    steps = _steps(path)
    current = template["spec"]["template"]["spec"]
    operations: list[Manifest] = []
    for index, step in enumerate(steps[:-1]):
        pointer = TEMPLATE_SPEC + "/" + "/".join(steps[: index + 1])
        if operations or not (isinstance(current, dict) and step in current):
            if any(p == pointer or p.startswith(pointer + "/") for p in provided) and not operations:
                return []
            empty: Manifest | list[object] = [] if steps[index + 1] in ("-", "0") else {}
            operations.append({"op": "add", "path": pointer, "value": empty})
            continue
        current = current[step]
    return operations


def _selector(api_version: str, kind: str, match: Manifest) -> Manifest:
    return {"apiVersion": api_version, "kind": kind, "matchResources": match}


def _targets(patch: VariablePatch, kinds: InfraKinds, templates: ClassTemplates) -> Iterable[tuple[Manifest, Manifest]]:
    """``(selector, template)`` pairs a variable patch applies to (one per pool for worker templates)."""
    control_plane = {"controlPlane": True}
    match patch.template:
        case "controlPlane":
            yield _selector(CONTROL_PLANE_API, "KubeadmControlPlaneTemplate", control_plane), templates.control_plane
        case "controlPlaneMachine":
            selector = _selector(kinds.api_version, kinds.machine_template, control_plane)
            yield selector, templates.control_plane_machine
        case "infrastructureCluster":
            selector = _selector(kinds.api_version, kinds.cluster_template, {"infrastructureCluster": True})
            yield selector, templates.infrastructure_cluster
        case _:
            bootstrap = patch.template == "workerBootstrap"
            by_pool = templates.worker_bootstrap if bootstrap else templates.worker_machine
            api_version = BOOTSTRAP_API if bootstrap else kinds.api_version
            for pool in patch.pools or list(by_pool):
                template = by_pool[pool]
                pool_class = "machinePoolClass" if pool in templates.machine_pools else "machineDeploymentClass"
                match_pool = {pool_class: {"names": [pool]}}
                yield _selector(api_version, template["kind"], match_pool), template


def _provided_paths(provider_patches: Iterable[Manifest]) -> dict[str, frozenset[str]]:
    """Template kind → paths the provider's patches add (parents a variable patch must not overwrite)."""
    paths: dict[str, set[str]] = {}
    for patch in provider_patches:
        for definition in patch["definitions"]:
            kind = definition["selector"]["kind"]
            paths.setdefault(kind, set()).update(p["path"] for p in definition["jsonPatches"])
    return {kind: frozenset(found) for kind, found in paths.items()}


def _variable_patch(
    name: str, variable: Variable, kinds: InfraKinds, templates: ClassTemplates, provided: dict[str, frozenset[str]]
) -> Manifest:
    definitions = []
    for patch in variable.patches:
        for selector, template in _targets(patch, kinds, templates):
            parents = _missing_parents(template, patch.path, provided.get(template["kind"], frozenset()))
            value = {"op": "add", "path": TEMPLATE_SPEC + patch.path, "valueFrom": {"variable": name}}
            definitions.append({"selector": selector, "jsonPatches": [*parents, value]})
    result: Manifest = {
        "name": f"variable-{name}",
        "description": f"The value of variable {name}, into the templates the class names.",
    }
    if variable.type == "string":
        result["enabledIf"] = f'{{{{ ne .{name} "" }}}}'
    result["definitions"] = definitions
    return result


def variable_patches(
    cluster_class: ClusterClassDocument,
    kinds: InfraKinds,
    templates: ClassTemplates,
    provider_patches: Iterable[Manifest],
) -> list[Manifest]:
    """A ClusterClass patch for every class variable that says where its value goes."""
    provided = _provided_paths(provider_patches)
    patches = []
    for name, variable in sorted(cluster_class.spec.variables.items()):
        if variable.patches and (cluster_class.spec.workers or not _only_workers(variable)):
            patches.append(_variable_patch(name, variable, kinds, templates, provided))
    return patches


def _only_workers(variable: Variable) -> bool:
    return all(p.template in WORKER_TARGETS for p in variable.patches)
