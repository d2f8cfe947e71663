"""Builders for test fleets: a minimal valid fleet as plain dicts, tweaked one field at a time.

A :class:`FleetBuilder` holds files as lists of documents (dicts) or as raw YAML text. Tests change one field
(``set``/``unset``/``add``), then validate the fleet in memory (:meth:`FleetBuilder.validate`) or write it to a
folder (:meth:`FleetBuilder.write`). :func:`position` finds where a piece of text sits in a file, so tests compute
the expected line and column from the YAML they produced instead of hard-coding them.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from fleetc import Diagnostic, MemoryTree, ValidationResult, validate_tree

API = "fleetc.io/v1alpha1"
FieldPath = str | Sequence[str | int]

FLEET_DOC: dict[str, Any] = {
    "apiVersion": API,
    "kind": "Fleet",
    "metadata": {"name": "test"},
    "spec": {
        "versions": {
            "catalogue": ["v1.33.6", "v1.34.2", "v1.35.0"],
            "channels": {"stable": "v1.34.2", "rapid": "v1.35.0"},
        },
        "defaults": {"channel": "stable"},
        "rollout": {
            "waves": [
                {"name": "canary", "selector": {"matchLabels": {"ring": "canary"}}, "maxConcurrent": 1},
                {
                    "name": "broad",
                    "selector": {"matchExpressions": [{"key": "ring", "operator": "NotIn", "values": ["canary"]}]},
                    "maxConcurrent": "25%",
                    "soak": "1h",
                },
            ]
        },
    },
}

CLASS_DOC: dict[str, Any] = {
    "apiVersion": API,
    "kind": "ClusterClass",
    "metadata": {"name": "standard"},
    "spec": {
        "controlPlane": {"replicas": 3, "size": "medium"},
        "workers": {"general": {"size": "large", "replicas": 3}},
        "network": {"pods": ["192.168.0.0/16"], "services": ["10.128.0.0/12"]},
    },
}

AWS_DOC: dict[str, Any] = {
    "apiVersion": API,
    "kind": "Provider",
    "metadata": {"name": "aws-eu"},
    "spec": {
        "type": "aws",
        "region": "eu-west-1",
        "credentialsRef": {"kind": "AWSClusterRoleIdentity", "name": "fleet"},
        "sizes": {"medium": "m6i.xlarge", "large": "m6i.2xlarge"},
        "failureDomains": ["eu-west-1a", "eu-west-1b"],
    },
}

DEV_DOC: dict[str, Any] = {
    "apiVersion": API,
    "kind": "Provider",
    "metadata": {"name": "local"},
    "spec": {"type": "dev-inmemory"},
}

VSPHERE_DOC: dict[str, Any] = {
    "apiVersion": API,
    "kind": "Provider",
    "metadata": {"name": "vsphere-dc1"},
    "spec": {
        "type": "vsphere",
        "credentialsRef": {"kind": "VSphereClusterIdentity", "name": "dc1"},
        "sizes": {"medium": "medium", "large": "large"},
        "settings": {
            "server": "vcenter.example.com",
            "datacenter": "DC1",
            "datastore": "ds1",
            "network": "VM Network",
            "template": "ubuntu-2404",
        },
    },
}


def cluster_doc(name: str, *, ring: str = "broad", provider: str = "aws-eu", **spec: Any) -> dict[str, Any]:
    """A Cluster of class ``standard`` following the default channel."""
    return {
        "apiVersion": API,
        "kind": "Cluster",
        "metadata": {"name": name, "labels": {"ring": ring}},
        "spec": {"class": "standard", "provider": provider, **spec},
    }


def cluster_set_doc(name: str, matrix: dict[str, Any], template: dict[str, Any], **spec: Any) -> dict[str, Any]:
    """A ClusterSet with the given matrix and template (``{"metadata": ..., "spec": ...}``)."""
    return {
        "apiVersion": API,
        "kind": "ClusterSet",
        "metadata": {"name": name},
        "spec": {"matrix": matrix, **spec, "template": template},
    }


def dump(*documents: dict[str, Any]) -> str:
    """Documents as one block-style YAML stream, keys in the order written."""
    return "---\n".join(yaml.safe_dump(d, sort_keys=False, default_flow_style=False) for d in documents)


def _steps(path: FieldPath) -> list[str | int]:
    return list(path.split(".")) if isinstance(path, str) else list(path)


def _walk(document: Any, steps: Sequence[str | int]) -> Any:
    for step in steps:
        document = document[step]
    return document


@dataclass
class FleetBuilder:
    """A fleet as files of documents; every change returns the builder so calls chain."""

    files: dict[str, list[dict[str, Any]] | str] = field(default_factory=dict)

    @classmethod
    def minimal(cls) -> FleetBuilder:
        """A valid fleet: two waves, class ``standard``, providers ``aws-eu`` and ``local``, two clusters."""
        return cls(
            {
                "fleet.yaml": [copy.deepcopy(FLEET_DOC)],
                "classes.yaml": [copy.deepcopy(CLASS_DOC)],
                "providers.yaml": [copy.deepcopy(AWS_DOC), copy.deepcopy(DEV_DOC)],
                "clusters.yaml": [cluster_doc("eu-1", ring="canary"), cluster_doc("eu-2")],
            }
        )

    def doc(self, kind: str, name: str | None = None) -> dict[str, Any]:
        """The (first) document of ``kind`` named ``name`` (any name when None)."""
        for documents in self.files.values():
            for document in documents if isinstance(documents, list) else []:
                if document["kind"] == kind and (name is None or document["metadata"]["name"] == name):
                    return document
        raise KeyError(f"no {kind} {name} in the builder")

    def set(self, kind: str, name: str | None, path: FieldPath, value: Any) -> FleetBuilder:
        """Set the field at ``path`` (dotted, or a sequence of keys) of one document, creating maps on the way."""
        *parents, last = _steps(path)
        target: Any = self.doc(kind, name)
        for step in parents:
            target = target.setdefault(step, {}) if isinstance(target, dict) else target[step]
        target[last] = value
        return self

    def unset(self, kind: str, name: str | None, path: FieldPath) -> FleetBuilder:
        """Remove the field at ``path`` of one document."""
        *parents, last = _steps(path)
        del _walk(self.doc(kind, name), parents)[last]
        return self

    def add(self, path: str, *documents: dict[str, Any]) -> FleetBuilder:
        """Append documents to a file (created when missing)."""
        existing = self.files.setdefault(path, [])
        assert isinstance(existing, list), f"{path} holds raw text"
        existing.extend(copy.deepcopy(d) for d in documents)
        return self

    def raw(self, path: str, text: str) -> FleetBuilder:
        """Replace a file with raw YAML text (for what dicts cannot express: unquoted ``no``, duplicates…)."""
        self.files[path] = text
        return self

    def remove(self, path: str) -> FleetBuilder:
        """Drop a file."""
        del self.files[path]
        return self

    def text(self, path: str) -> str:
        """The YAML text of one file."""
        content = self.files[path]
        return content if isinstance(content, str) else dump(*content)

    def tree(self, label: str = "fleet") -> MemoryTree:
        """The fleet as a :class:`~fleetc.MemoryTree`; paths show as ``<label>/<file>``."""
        return MemoryTree({path: self.text(path).encode() for path in self.files}, label)

    def validate(self) -> ValidationResult:
        """Validate in memory."""
        return validate_tree(self.tree())

    def write(self, root: Path) -> Path:
        """Write the files under ``root`` and return it."""
        for path in self.files:
            target = root / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(self.text(path))
        return root


def position(text: str, needle: str, occurrence: int = 1, *, value: bool = False, after: str = "") -> tuple[int, int]:
    """1-based (line, column) of the ``occurrence``-th ``needle`` in ``text``.

    With ``value``, the position of what follows the first ``': '`` in the needle (``"replicas: 4"`` → the 4);
    with ``after``, the search starts after the first occurrence of that text (``after="name: broad"``).
    """
    index = text.index(after) if after else -1
    for _ in range(occurrence):
        index = text.index(needle, index + 1)
    if value:
        index += needle.index(": ") + 2
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def errors(result: ValidationResult) -> list[Diagnostic]:
    """The error diagnostics of a result."""
    return [d for d in result.diagnostics if d.severity.value == "error"]


def only(result: ValidationResult, *, field: str | None = None, fragment: str = "") -> Diagnostic:
    """The one diagnostic of ``result`` (optionally: on ``field`` and containing ``fragment``); fails otherwise."""
    found = [
        d
        for d in result.diagnostics
        if (field is None or d.field == field) and fragment in d.message and d.severity.value == "error"
    ]
    shown = "\n".join(map(str, result.diagnostics)) or "(no diagnostics)"
    assert len(found) == 1, f"expected one error on {field!r} with {fragment!r}, got:\n{shown}"
    return found[0]


def assert_valid(result: ValidationResult) -> None:
    """Fail with every diagnostic when the result has errors."""
    assert result.ok, "\n".join(map(str, result.diagnostics))


def at(diagnostic: Diagnostic) -> tuple[str, int, int]:
    """(path, line, column) of a diagnostic."""
    location = diagnostic.location
    return location.path, location.line, location.column
