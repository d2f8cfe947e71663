"""Every hostile file of a fleet is reported in one run, and the valid files beside them are still validated.

Covers: one fleet holding many kinds of hostile input at once, read from disk and from a git revision: each
bad file gets its own diagnostic, an ordinary error in a valid-looking file is reported too, the fleet is still
assembled from the good files, and nothing crashes.
"""

from __future__ import annotations

import json
import os
from itertools import pairwise
from pathlib import Path

import pytest

from fleetc import DiskTree, validate_tree
from tests.loading.support import EXAMPLE_FLEET, commit_all, run_cli

HOSTILE_FILES: dict[str, bytes] = {
    "bad/malformed.yaml": b"kind: [unclosed\n",
    "bad/duplicate.yaml": b"apiVersion: fleetc.io/v1alpha1\napiVersion: fleetc.io/v1alpha1\n",
    "bad/bomb.yaml": b"a: &a [x, x, x, x, x, x, x, x, x]\n"
    + b"".join(f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]\n".encode() for p, c in pairwise("abcdefghi")),
    "bad/recursive.yaml": b"a: &x [*x]\n",
    "bad/latin1.yaml": b"name: caf\xe9\n",
    "bad/nul.yaml": b"name: a\x00b\n",
    "bad/deep-flow.yaml": b"[" * 10_000 + b"]" * 10_000,
    "bad/deep-block.yaml": b"- " * 10_000 + b"x\n",
    "bad/a-list.yaml": b"- one\n- two\n",
    "bad/dotdot.yaml": b"apiVersion: fleetc.io/v1alpha1\nkind: Provider\nmetadata: {name: ../x}\n"
    + b"spec: {type: dev-docker}\n",
    # valid YAML and a valid document, but it refers to a provider that does not exist
    "clusters/unknown-provider.yaml": b"apiVersion: fleetc.io/v1alpha1\nkind: Cluster\nmetadata:\n  name: lost-1\n"
    + b"  labels: {ring: broad}\nspec:\n  class: edge\n  provider: nowhere-1\n",
}


def _plant(fleet: Path) -> set[str]:
    for path, data in HOSTILE_FILES.items():
        (fleet / path).parent.mkdir(parents=True, exist_ok=True)
        (fleet / path).write_bytes(data)
    with (fleet / "bad" / "huge.yaml").open("wb") as huge:
        huge.truncate(50 * 2**20)
    os.symlink("../../outside.yaml", fleet / "bad" / "link.yaml")
    (fleet.parent / "outside.yaml").write_text("outside: true\n")
    return {*HOSTILE_FILES, "bad/huge.yaml", "bad/link.yaml"}


@pytest.mark.parametrize("source", ["disk", "git-revision"])
def test_all_hostile_files_are_reported_in_one_run(fleet: Path, source: str) -> None:
    planted = _plant(fleet)
    args = ["validate", "--format", "json", "fleet"]
    if source == "git-revision":
        commit_all(fleet)
        args[1:1] = ["--rev", "HEAD"]

    outcome = run_cli(*args)
    report = json.loads(outcome.output)

    assert outcome.exit_code == 1
    assert "Traceback" not in outcome.output
    prefix = report["fleets"][0]["root"]
    reported = {d["file"].removeprefix(prefix).lstrip("/") for d in report["diagnostics"]}
    assert reported == planted
    example = validate_tree(DiskTree.open(EXAMPLE_FLEET)).fleet
    assert example is not None
    assert report["fleets"][0]["name"] == example.name
    waves = report["fleets"][0]["summary"]["wave"]
    assert sum(waves.values()) == len(example.clusters) + 1  # every good cluster, plus lost-1
