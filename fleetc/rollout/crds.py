"""CustomResourceDefinitions for fleetc's own kinds, generated from the typed models in :mod:`fleetc.rollout.model`.

Each of ``FleetRollout``, ``ClusterRollout`` and ``FleetRevision`` gets a ``apiextensions.k8s.io/v1`` CRD with a
structural schema derived from its pydantic model (``$ref`` inlined, ``Optional[X]`` as ``X`` + ``nullable``,
``Literal`` as a one-value ``enum``, titles and defaults dropped so the server stores exactly what fleetc wrote), a
status subresource, printer columns and short names. ``metadata`` is left to the API server (a CRD schema may not
describe it) and the embedded desired objects (``spec.objects[]``) keep every field
(``x-kubernetes-preserve-unknown-fields``).

Callers: ``fleetc install --print`` (the controller's manifests), the Kubernetes engine (installs them before a
rollout against a management cluster) and the tests that install them on a real API server.
"""

from __future__ import annotations

import copy
from typing import Any, Final

from pydantic import BaseModel

from fleetc.core.keys import Manifest
from fleetc.rollout.model import (
    CLUSTER_ROLLOUT,
    FLEET_REVISION,
    FLEET_ROLLOUT,
    GROUP,
    ClusterRollout,
    FleetRevision,
    FleetRollout,
)

VERSION: Final = "v1alpha1"
CATEGORY: Final = "fleetc"
_DROPPED: Final = frozenset({"title", "default", "$defs"})


def _column(name: str, path: str, kind: str = "string", description: str = "", priority: int = 0) -> Manifest:
    column: Manifest = {"name": name, "type": kind, "jsonPath": path}
    if description:
        column["description"] = description
    if priority:
        column["priority"] = priority
    return column


_AGE: Final = _column("Age", ".metadata.creationTimestamp", "date")


class _Kind:
    """What a CRD needs besides its schema."""

    def __init__(
        self, model: type[BaseModel], kind: str, short: list[str], columns: list[Manifest], status: bool
    ) -> None:
        self.model = model
        self.kind = kind
        self.short = short
        self.columns = columns
        self.status = status

    @property
    def plural(self) -> str:
        return self.kind.lower() + "s"


KINDS: Final = (
    _Kind(
        FleetRollout,
        FLEET_ROLLOUT,
        ["frollout", "fro"],
        [
            _column("Phase", ".status.phase", description="Progressing, Soaking, Paused, Halted or Complete"),
            _column("Wave", ".status.wave", description="The wave being rolled out"),
            _column("Progress", ".status.progress", description="Clusters succeeded / clusters in the rollout"),
            _column("Revision", ".spec.revision", priority=1),
            _column("Halted", ".status.haltReason", priority=1),
            _AGE,
        ],
        True,
    ),
    _Kind(
        ClusterRollout,
        CLUSTER_ROLLOUT,
        ["crollout", "cro"],
        [
            _column("Cluster", ".spec.cluster.name"),
            _column("Wave", ".spec.wave"),
            _column("State", ".status.state", description="Pending, InFlight, Succeeded or Failed"),
            _column("Version", ".spec.target.version"),
            _column("Reason", ".status.reason", priority=1),
            _AGE,
        ],
        True,
    ),
    _Kind(
        FleetRevision,
        FLEET_REVISION,
        ["frevision", "frev"],
        [_column("Revision", ".spec.revision"), _AGE],
        False,
    ),
)


def _resolve(node: Any, defs: dict[str, Any]) -> Any:
    """``node`` with ``$ref`` inlined, ``anyOf [X, null]`` folded into ``X`` + nullable, ``const`` as an enum."""
    if isinstance(node, list):
        return [_resolve(item, defs) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target = defs[node["$ref"].rsplit("/", 1)[-1]]
        return _resolve({**target, **{k: v for k, v in node.items() if k != "$ref"}}, defs)
    if "anyOf" in node:
        options = [option for option in node["anyOf"] if option.get("type") != "null"]
        if len(options) == 1 and len(options) < len(node["anyOf"]):
            rest = {k: v for k, v in node.items() if k != "anyOf"}
            return {**_resolve({**options[0], **rest}, defs), "nullable": True}
    return _structural(node, defs)


def _structural(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """One schema node in the keywords a structural CRD schema allows; free-form maps keep unknown fields."""
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DROPPED:
            continue
        if key == "const":
            out["enum"] = [value]
        elif key == "properties":
            out[key] = {name: _resolve(child, defs) for name, child in value.items()}
        else:
            out[key] = _resolve(value, defs)
    if out.get("additionalProperties") is True or (out.get("additionalProperties") is False and "properties" in out):
        del out["additionalProperties"]  # a structural schema has properties or additionalProperties, not both
    if out.get("type") == "object" and "properties" not in out and "additionalProperties" not in out:
        out["x-kubernetes-preserve-unknown-fields"] = True
    return out


def schema(model: type[BaseModel]) -> Manifest:
    """The structural OpenAPI v3 schema of one kind, as a CRD's ``openAPIV3Schema``."""
    raw = model.model_json_schema(by_alias=True)
    resolved: Manifest = _resolve(raw, raw.get("$defs", {}))
    resolved["properties"]["metadata"] = {"type": "object"}
    resolved["required"] = [name for name in resolved.get("required", []) if name != "metadata"]
    return resolved


def crd(kind: _Kind) -> Manifest:
    """The CustomResourceDefinition of one kind."""
    version: Manifest = {
        "name": VERSION,
        "served": True,
        "storage": True,
        "schema": {"openAPIV3Schema": schema(kind.model)},
        "additionalPrinterColumns": copy.deepcopy(kind.columns),
    }
    if kind.status:
        version["subresources"] = {"status": {}}
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{kind.plural}.{GROUP}", "labels": {"app.kubernetes.io/part-of": "fleetc"}},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {
                "kind": kind.kind,
                "listKind": f"{kind.kind}List",
                "plural": kind.plural,
                "singular": kind.kind.lower(),
                "shortNames": list(kind.short),
                "categories": [CATEGORY],
            },
            "versions": [version],
        },
    }


def crds() -> list[Manifest]:
    """The CRDs of FleetRollout, ClusterRollout and FleetRevision, in that order."""
    return [crd(kind) for kind in KINDS]


def resources() -> list[str]:
    """The plural resource names of fleetc's kinds (for RBAC rules)."""
    return [kind.plural for kind in KINDS]
