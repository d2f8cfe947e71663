"""Helpers for the Flux tests: the Flux CRDs, the CAPI status fixtures, and CEL evaluation.

CEL runs on ``common-expression-language`` (module ``cel``, a binding of a Rust CEL implementation). Like cel-go,
which Flux uses, it raises on ``has(a.b.c)`` when ``a.b`` is missing, so an unguarded expression fails here too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cel
import yaml

from fleetc.render.flux import CLUSTER_HEALTH
from tests.upstream.reference import reference

OUTCOMES = ("current", "failed", "inProgress")


def fixtures_dir() -> Path:
    """The CAPI v1.14.0 status fixtures."""
    return reference().capi_status


def flux_crds_dir() -> Path:
    """The Flux kustomize-controller CRDs."""
    return reference().crd_folder("flux-kustomize")


@dataclass(frozen=True)
class FixtureVerdict:
    """One row of the fixtures README's verdict table (§3)."""

    scenario: str
    cluster_verdict: str
    """``ok``, ``progressing`` or ``failed``: the whole-cluster column, which is what gates the next wave."""
    time_based: bool
    """Failed only because too much time passed: no status field says so."""


_ROW = re.compile(r"^\|\s*([a-z0-9.-]+)\s*\|[^|]*\|([^|]*)\|([^|]*)\|\s*$")


def fixture_verdicts() -> list[FixtureVerdict]:
    """The verdict table of the fixtures README, read from the README itself."""
    text = (fixtures_dir() / "README.md").read_text()
    table = text[text.index("## 3. Verdicts") :]
    verdicts = []
    for line in table.splitlines():
        match = _ROW.match(line)
        if match and (fixtures_dir() / match[1]).is_dir():
            control_plane, whole = match[2], match[3]
            verdict = whole.replace("*", "").split()[0].lower()
            verdicts.append(FixtureVerdict(match[1], verdict, "time-based" in control_plane))
    return verdicts


def fixture_cluster(scenario: str) -> dict[str, Any]:
    """The CAPI Cluster object of one fixture folder."""
    for path in sorted((fixtures_dir() / scenario).glob("cluster-*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if isinstance(document, dict) and document.get("kind") == "Cluster":
                return document
    raise AssertionError(f"no Cluster in {scenario}")


def evaluate(expression: str, obj: dict[str, Any]) -> bool:
    """One CEL expression over an object, bound as Flux binds it (its top-level fields are the variables)."""
    result = cel.evaluate(expression, obj)
    assert isinstance(result, bool), f"{expression!r} gave {result!r}, not a bool"
    return result


def outcomes(obj: dict[str, Any]) -> dict[str, bool]:
    """The value of each of the three health expressions."""
    return {
        "current": evaluate(CLUSTER_HEALTH.current, obj),
        "failed": evaluate(CLUSTER_HEALTH.failed, obj),
        "inProgress": evaluate(CLUSTER_HEALTH.in_progress, obj),
    }


def outcome(obj: dict[str, Any]) -> str:
    """The one expression that holds; fails unless exactly one does."""
    values = outcomes(obj)
    true = [name for name in OUTCOMES if values[name]]
    assert len(true) == 1, f"expected exactly one true expression, got {values}"
    return true[0]


def flux_status(obj: dict[str, Any]) -> str:
    """What Flux's CEL status evaluator (fluxcd/pkg runtime/cel, RFC-0009) concludes for the object.

    A lagging ``status.observedGeneration`` means in progress; then ``inProgress``, ``failed``, ``current`` in that
    order, the first true one wins; none true means in progress.
    """
    observed = obj.get("status", {}).get("observedGeneration")
    generation = obj.get("metadata", {}).get("generation")
    if observed is not None and generation is not None and observed != generation:
        return "InProgress"
    for name, expression in (
        ("InProgress", CLUSTER_HEALTH.in_progress),
        ("Failed", CLUSTER_HEALTH.failed),
        ("Current", CLUSTER_HEALTH.current),
    ):
        if evaluate(expression, obj):
            return name
    return "InProgress"
