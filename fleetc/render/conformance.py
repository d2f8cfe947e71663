"""Checks a rendered tree's objects against CRD schemas, as located diagnostics.

Backs ``fleetc validate --rendered OUT --crds DIR...``: users check fleetc's output (or anything else)
against the CRD versions their management cluster actually runs.
"""

from __future__ import annotations

from collections.abc import Iterable

from fleetc.core.diagnostics import Diagnostic, Severity
from fleetc.load.yamlio import YamlDocument, locate, mark_location
from fleetc.render.crds import CrdSchemas

CORE_KINDS = frozenset({("v1", "Namespace"), ("v1", "ConfigMap"), ("v1", "Secret")})
KUSTOMIZE = "kustomize.config.k8s.io/"


def check_documents(documents: Iterable[YamlDocument], schemas: CrdSchemas) -> list[Diagnostic]:
    """Every schema violation of every Kubernetes object among ``documents``."""
    diagnostics: list[Diagnostic] = []
    for document in documents:
        data = document.data
        if not isinstance(data, dict) or str(data.get("apiVersion", "")).startswith(KUSTOMIZE):
            continue
        if (data.get("apiVersion"), data.get("kind")) in CORE_KINDS:
            continue
        name = f"{data.get('kind')} {data.get('metadata', {}).get('name', '?')}"
        for violation in schemas.violations(data):
            at_key = violation.message.startswith("unknown field")
            mark, _ = locate(document.node, violation.path, at_key=at_key)
            location = mark_location(document.path, mark)
            diagnostics.append(Diagnostic(location, violation.dotted, f"{name}: {violation.message}", Severity.ERROR))
    return diagnostics
