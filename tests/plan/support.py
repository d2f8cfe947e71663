"""Helpers for the diff and plan tests: a fleet in a real git repository, changed and committed step by step.

Nothing is mocked: :class:`FleetRepo` writes the fleet with :class:`~tests.builders.FleetBuilder` and commits it
with the real git CLI (``tests.loading.support.git``); :func:`run` runs the real click command in-process.
"""

from __future__ import annotations

import copy
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from fleetc.cli.main import cli
from tests.builders import API, FleetBuilder, cluster_doc
from tests.loading.support import commit_all

FLEET_DIR = "fleet"
NEUTRAL_ENV: dict[str, str | None] = {
    name: None
    for name in os.environ
    if name.startswith("FLEETC_") or name in {"FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS"}
}

EDGE_CLASS: dict[str, Any] = {
    "apiVersion": API,
    "kind": "ClusterClass",
    "metadata": {"name": "edge"},
    "spec": {
        "controlPlane": {"replicas": 1, "size": "medium"},
        "workers": {"apps": {"size": "medium", "replicas": 2}},
        "network": {"pods": ["172.16.0.0/16"], "services": ["172.20.0.0/16"]},
    },
}


def plan_fleet() -> FleetBuilder:
    """Two classes, two providers, two waves (canary, broad), five clusters; stable channel at v1.34.2."""
    builder = FleetBuilder.minimal()
    builder.add("classes.yaml", EDGE_CLASS)
    builder.files["clusters.yaml"] = [
        cluster_doc("eu-1", ring="canary"),
        cluster_doc("eu-2"),
        cluster_doc("eu-3"),
        cluster_doc("sim-1", provider="local"),
    ]
    edge = cluster_doc("edge-1", provider="local")
    edge["spec"]["class"] = "edge"
    builder.add("clusters.yaml", edge)
    return builder


@dataclass
class FleetRepo:
    """A git repository with the fleet in ``fleet/``; the builder holds what the next write will put there."""

    root: Path
    builder: FleetBuilder

    @property
    def fleet(self) -> Path:
        """The fleet root in the working tree."""
        return self.root / FLEET_DIR

    def write(self) -> FleetRepo:
        """Replace the working tree's fleet with the builder's files (not committed)."""
        shutil.rmtree(self.fleet, ignore_errors=True)
        self.builder.write(self.fleet)
        return self

    def commit(self, message: str = "change") -> str:
        """Write the builder's fleet and commit it; returns the commit id."""
        self.write()
        return commit_all(self.root, message)

    def cluster(self, name: str) -> dict[str, Any]:
        """The Cluster document ``name`` (to change it in place)."""
        return self.builder.doc("Cluster", name)

    def remove_cluster(self, name: str) -> dict[str, Any]:
        """Drop a Cluster document and return it."""
        for documents in self.builder.files.values():
            if isinstance(documents, list):
                for document in documents:
                    if document["kind"] == "Cluster" and document["metadata"]["name"] == name:
                        documents.remove(document)
                        return document
        raise KeyError(name)

    def add_cluster(self, name: str, **spec: Any) -> None:
        """Append a Cluster of class standard (ring broad unless ``ring`` is given)."""
        ring = spec.pop("ring", "broad")
        self.builder.add("clusters.yaml", copy.deepcopy(cluster_doc(name, ring=ring, **spec)))


def new_repo(root: Path, builder: FleetBuilder | None = None) -> FleetRepo:
    """A repository at ``root`` whose first commit holds ``builder`` (default :func:`plan_fleet`)."""
    repo = FleetRepo(root, builder or plan_fleet())
    repo.commit("base")
    return repo


def run(*args: str) -> Result:
    """``fleetc ARGS`` in-process from the current folder (stdout and stderr kept apart)."""
    return CliRunner(env=NEUTRAL_ENV).invoke(cli, list(args), prog_name="fleetc")


def top(markdown: str) -> str:
    """The part of a markdown comment before the first ``<details>`` block (what a reviewer reads first)."""
    return markdown.split("<details>", 1)[0]
