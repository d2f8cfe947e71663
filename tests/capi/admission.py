"""Admission by real CAPI: create what ``fleetc build`` writes, the way a management cluster would receive it.

Namespaces, templates and ClusterClasses are created for real (server-side apply); each ClusterClass must then be
reconciled by CAPI core (``status.observedGeneration`` caught up, ``VariablesReady`` true), because the Cluster
webhook validates a Cluster against its class only when the class exists (otherwise it merely warns). Clusters and
Flux Kustomizations are then applied as a server-side dry run. Everything CAPI refuses, and every warning it gives,
is collected in an :class:`Admission`; tests assert it is empty. Used by ``tests/capi/test_admission.py``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

import yaml

from tests.upstream.apiserver import KubeApi

FLUX_NAMESPACE = "flux-system"
RECONCILE_TIMEOUT = 90.0


@dataclass
class Admission:
    """What CAPI (and the API server) said about a fleet's objects."""

    rejected: list[str] = field(default_factory=list)
    """kubectl's error output, one entry per failed step."""
    warnings: list[str] = field(default_factory=list)
    classes_not_ready: list[str] = field(default_factory=list)
    """``ClusterClass/name: condition: message`` of classes CAPI would not accept for topology."""

    def findings(self) -> list[str]:
        """Everything that is not a clean acceptance."""
        return self.rejected + self.warnings + self.classes_not_ready


def built_objects(files: Mapping[str, bytes]) -> list[dict[str, Any]]:
    """Every object in a build's output files (kustomization files and the marker excluded)."""
    found: list[dict[str, Any]] = []
    for path, content in sorted(files.items()):
        if PurePosixPath(path).name == "kustomization.yaml" or not path.endswith(".yaml"):
            continue
        found.extend(doc for doc in yaml.safe_load_all(content) if doc)
    return found


def _apply(api: KubeApi, objects: list[dict[str, Any]], admission: Admission, *, dry_run: bool) -> None:
    if not objects:
        return
    stream = json.dumps({"apiVersion": "v1", "kind": "List", "items": objects})
    args = ["apply", "--server-side", "--field-manager=fleetc", "-f", "-"]
    result = api.kubectl(*args, *(["--dry-run=server"] if dry_run else []), check=False, input=stream)
    lines = result.stderr.splitlines()
    admission.warnings.extend(line for line in lines if line.startswith("Warning:"))
    errors = [line for line in lines if not line.startswith("Warning:")]
    if result.returncode != 0 or errors:
        admission.rejected.append("\n".join(errors) or f"kubectl exited {result.returncode}")


def _condition(obj: dict[str, Any], kind: str) -> dict[str, Any] | None:
    for condition in obj.get("status", {}).get("conditions", []):
        if condition.get("type") == kind:
            found: dict[str, Any] = condition
            return found
    return None


def _reconciled(item: dict[str, Any]) -> bool:
    observed = item.get("status", {}).get("observedGeneration")
    return observed == item["metadata"]["generation"] and _condition(item, "VariablesReady") is not None


def poll_classes(api: KubeApi, wanted: set[tuple[str, str]], timeout: float) -> dict[tuple[str, str], dict[str, Any]]:
    """The last listing of each wanted ClusterClass, polled until all are reconciled or ``timeout`` passes."""
    last: dict[tuple[str, str], dict[str, Any]] = {}
    deadline = time.monotonic() + timeout
    while True:
        for namespace in sorted({ns for ns, _ in wanted}):
            listed = api.kubectl("get", "clusterclasses.cluster.x-k8s.io", "-n", namespace, "-o", "json").stdout
            last.update({(namespace, i["metadata"]["name"]): i for i in json.loads(listed)["items"]})
        if all(_reconciled(last[key]) for key in wanted if key in last) or time.monotonic() > deadline:
            return last
        time.sleep(0.5)


def wait_classes_reconciled(
    api: KubeApi, classes: Iterable[tuple[str, str]], admission: Admission, timeout: float = RECONCILE_TIMEOUT
) -> None:
    """Wait until CAPI core has reconciled each ``(namespace, name)`` ClusterClass; record those not ready."""
    wanted = set(classes)
    last = poll_classes(api, wanted, timeout)
    for key in sorted(wanted):
        item = last.get(key)
        if item is None or not _reconciled(item):
            state = "not created" if item is None else f"not reconciled in {timeout:.0f} s"
            admission.classes_not_ready.append(f"ClusterClass {key[0]}/{key[1]}: {state}")
            continue
        for kind in ("VariablesReady", "RefVersionsUpToDate"):
            condition = _condition(item, kind)
            if condition is not None and condition.get("status") != "True":
                admission.classes_not_ready.append(
                    f"ClusterClass {key[1]}: {kind}={condition.get('status')} {condition.get('reason')}: "
                    f"{condition.get('message', '')}"
                )


def admit(api: KubeApi, objects: list[dict[str, Any]]) -> Admission:
    """Create namespaces, templates and ClusterClasses; wait for the classes; dry-run Clusters and Flux objects."""
    admission = Admission()
    namespaces = [o for o in objects if o["kind"] == "Namespace"]
    flux = [o for o in objects if o["apiVersion"].startswith("kustomize.toolkit.fluxcd.io/")]
    clusters = [o for o in objects if o["kind"] == "Cluster" and o["apiVersion"].startswith("cluster.x-k8s.io/")]
    rest = [o for o in objects if not any(o is x for x in (*namespaces, *flux, *clusters))]
    if flux:
        namespaces.append({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": FLUX_NAMESPACE}})
    _apply(api, namespaces, admission, dry_run=False)
    _apply(api, rest, admission, dry_run=False)
    if admission.rejected:  # a refused template leaves its class unreconciled: nothing more to learn by waiting
        return admission
    classes = [(o["metadata"]["namespace"], o["metadata"]["name"]) for o in rest if o["kind"] == "ClusterClass"]
    wait_classes_reconciled(api, classes, admission)
    _apply(api, clusters, admission, dry_run=True)
    _apply(api, flux, admission, dry_run=True)
    return admission
