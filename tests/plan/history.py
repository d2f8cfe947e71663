"""A real git history of a fleet, as a reviewer meets it: one branch per kind of change, each off the same base.

:func:`build_history` writes a fleet of a dozen clusters (two classes, two providers, two waves; class
``standard`` has two pools, one spread across failure domains) with :class:`~tests.builders.FleetBuilder`,
commits it with the real git CLI, then commits each change of :data:`CHANGES` on its own branch from that base:
a template change, a deletion (marked, then removed), scales of two pools, a wave move, a provider change,
failure domains, a refused version change, a broken fleet and the commit that fixes it. Tests compare
``--base main --head <branch>`` (or any two commits) with the real CLI; nothing is mocked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.builders import FleetBuilder, cluster_doc
from tests.loading.support import commit_all, git
from tests.plan.support import EDGE_CLASS, FleetRepo

Change = Callable[[FleetRepo], None]


def history_fleet() -> FleetBuilder:
    """Twelve clusters: eu-1..eu-8 (standard on aws-eu), sim-1..sim-2 (standard on local), edge-1..edge-2."""
    builder = FleetBuilder.minimal()
    standard = builder.doc("ClusterClass", "standard")
    standard["spec"]["workers"] = {
        "general": {"size": "large", "replicas": 3},
        "spread": {"size": "medium", "replicas": 2, "spreadAcrossFailureDomains": True},
    }
    builder.add("classes.yaml", EDGE_CLASS)
    clusters = [cluster_doc("eu-1", ring="canary"), cluster_doc("sim-1", ring="canary", provider="local")]
    clusters += [cluster_doc(f"eu-{n}") for n in range(2, 9)] + [cluster_doc("sim-2", provider="local")]
    for name in ("edge-1", "edge-2"):
        edge = cluster_doc(name, provider="local")
        edge["spec"]["class"] = "edge"
        clusters.append(edge)
    builder.files["clusters.yaml"] = clusters
    return builder


def template_change(repo: FleetRepo) -> None:
    """Class standard gets a kubelet argument: its revision on each provider changes the same way."""
    repo.builder.set("ClusterClass", "standard", "spec.kubeadm", {"kubelet": {"extraArgs": {"max-pods": "200"}}})


def mark_for_deletion(repo: FleetRepo) -> None:
    """eu-7 and eu-8 are marked ``decommission: true`` (the first step of deleting them)."""
    for name in ("eu-7", "eu-8"):
        repo.cluster(name)["spec"]["decommission"] = True


def deletion(repo: FleetRepo) -> None:
    """From ``marked``: eu-7 and eu-8 leave the spec (decommissioned), eu-6 leaves unmarked (orphaned), eu-9 is new."""
    mark_for_deletion(repo)
    for name in ("eu-6", "eu-7", "eu-8"):
        repo.remove_cluster(name)
    repo.add_cluster("eu-9", provider="local")


def scale(repo: FleetRepo) -> None:
    """eu-2 scales both pools and its control plane."""
    repo.cluster("eu-2")["spec"]["workers"] = {"general": {"replicas": 5}, "spread": {"replicas": 4}}


def wave_move(repo: FleetRepo) -> None:
    """eu-3 moves from wave broad to wave canary."""
    repo.cluster("eu-3")["metadata"]["labels"]["ring"] = "canary"


def provider_change(repo: FleetRepo) -> None:
    """Provider aws-eu maps size large to another instance type: the standard class's aws revision changes."""
    repo.builder.set("Provider", "aws-eu", "spec.sizes.large", "m7i.2xlarge")


def failure_domains(repo: FleetRepo) -> None:
    """Provider aws-eu moves from eu-west-1a/b to eu-west-1b/c: the spread pool's MachineDeployments are renamed."""
    repo.builder.set("Provider", "aws-eu", "spec.failureDomains", ["eu-west-1b", "eu-west-1c"])


def refused_downgrade(repo: FleetRepo) -> None:
    """eu-4 pins v1.33.6 below the channel's v1.34.2 (CAPI refuses a control-plane downgrade), with a scale."""
    repo.cluster("eu-4")["spec"]["version"] = "v1.33.6"
    repo.cluster("eu-4")["spec"]["workers"] = {"general": {"replicas": 4}}


def broken(repo: FleetRepo) -> None:
    """fleet.yaml loses its required fields: the fleet does not validate."""
    repo.builder.raw("fleet.yaml", "apiVersion: fleetc.io/v1alpha1\nkind: Fleet\nmetadata: {name: test}\n")


STARTS = {"deletion": "marked", "fixed": "broken"}
"""Branches that start from another change's commit rather than from the base."""

CHANGES: dict[str, Change] = {
    "template": template_change,
    "marked": mark_for_deletion,
    "deletion": deletion,
    "scale": scale,
    "wave-move": wave_move,
    "provider": provider_change,
    "failure-domains": failure_domains,
    "refused": refused_downgrade,
    "broken": broken,
    "fixed": lambda repo: None,
}


@dataclass
class History:
    """The repository and the commit of each change (``base`` is main's only commit)."""

    repo: FleetRepo
    commits: dict[str, str]

    @property
    def root(self) -> Path:
        """The repository's working tree."""
        return self.repo.root


def _branch(root: Path, name: str, start: str, repo: FleetRepo, builder: FleetBuilder) -> str:
    git(root, "checkout", "-q", "-b", name, start)
    repo.builder = builder
    return repo.commit(name)


def build_history(root: Path) -> History:
    """The base on ``main`` and each change on its own branch; ``fixed`` repairs ``broken``. Ends on main."""
    repo = FleetRepo(root, history_fleet())
    repo.write()
    commits = {"base": commit_all(root, "base")}
    git(root, "branch", "-M", "main")
    for name, change in CHANGES.items():
        builder = history_fleet()
        change(FleetRepo(root, builder))
        commits[name] = _branch(root, name, STARTS.get(name, "main"), repo, builder)
    git(root, "checkout", "-q", "main")
    repo.builder = history_fleet()
    return History(repo, commits)
