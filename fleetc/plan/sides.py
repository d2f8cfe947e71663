"""Reading the two sides of a diff: a fleet at a git revision or on disk, or a built tree. The only I/O here.

A fleet side is loaded (folder or git objects, no checkout), validated and compiled; a built side is every
Kubernetes object under a folder. Whatever goes wrong becomes a :class:`~fleetc.plan.snapshot.SideFailure`
naming the side, the stage and the diagnostics — never an exception, and never an empty snapshot that would
show as "everything added" or "everything deleted".

Caller: ``fleetc diff`` and ``fleetc plan`` (:mod:`fleetc.cli.diff_cmd`), and the library API.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from fleetc.core.diagnostics import Diagnostic, Severity, SourceLocation
from fleetc.core.errors import FleetcError
from fleetc.core.keys import Manifest, ObjectKey
from fleetc.load.loader import read_files
from fleetc.load.sources import DiskTree, GitTree, SourceTree
from fleetc.load.yamlio import YamlDocument
from fleetc.plan.snapshot import Side, SideFailure, from_objects, from_rendered_set
from fleetc.render.compile import compile_fleet
from fleetc.schema.lifecycle import date_dependent
from fleetc.schema.validate import validate_tree

KUSTOMIZE_CONFIG = "kustomize.config.k8s.io/"
_SHA = re.compile(r"^[0-9a-f]{7,40}$")


def shallow_hint(revision: str) -> str:
    """How to fetch a missing base in a shallow, single-branch CI clone, with a refspec that works there.

    A single-branch clone maps only its own branch to ``refs/remotes/origin/``, so ``git fetch origin main``
    would leave ``origin/main`` missing: the refspec names the remote-tracking ref explicitly. A commit id is
    fetched as it is (GitHub and GitLab serve any reachable commit).
    """
    if _SHA.match(revision):
        command = f"git fetch --no-tags --depth=1 origin {revision}"
    else:
        branch = revision.removeprefix("origin/") if revision.startswith("origin/") else "<base-branch>"
        command = f'git fetch --no-tags --depth=1 origin "+refs/heads/{branch}:refs/remotes/origin/{branch}"'
    return f"if this is a shallow CI clone, fetch the base commit first: {command} (or check out with fetch-depth: 0)"


def _errors(diagnostics: Iterable[Diagnostic]) -> tuple[Diagnostic, ...]:
    return tuple(d for d in diagnostics if d.severity is Severity.ERROR)


def open_fleet(side: str, root: Path, revision: str | None, shown: str = "", *, now: datetime | None = None) -> Side:
    """The fleet at ``root`` as it is at ``revision`` (git objects), or as the files are when None.

    Date-dependent findings (an expired version, :mod:`fleetc.schema.lifecycle`) count on the head side only: the
    base is what the change moves away from."""
    if revision is None:
        label = f"working tree ({shown})" if shown not in ("", ".") else "working tree"
        return fleet_side(side, DiskTree(root, shown), label, now=now)
    try:
        tree = GitTree.open(root, revision)
    except FleetcError as exc:
        message = str(exc)
        if "no such git revision" in message:
            message = f"{message}; {shallow_hint(revision)}"
        return SideFailure(side, revision, "load", message)
    return fleet_side(side, tree, tree.label.rstrip(":"), now=now)


def fleet_side(side: str, tree: SourceTree, label: str, *, now: datetime | None = None) -> Side:
    """Validate and compile the fleet of ``tree``; a failure at any stage is reported, not raised."""
    try:
        result = validate_tree(tree, now=now)
    except FleetcError as exc:
        return SideFailure(side, label, "load", str(exc))
    except ValueError as exc:  # gitpython: a revision whose objects are missing (a too shallow clone)
        return SideFailure(side, label, "load", f"git objects missing: {exc}; {shallow_hint(label.partition(':')[0])}")
    errors = _errors(d for d in result.diagnostics if side != "base" or not date_dependent(d))
    if result.fleet is None or errors:
        count = len(errors) or len(result.diagnostics)
        message = f"the fleet does not validate ({count} error{'s' if count != 1 else ''})"
        return SideFailure(side, label, "validate", message, errors or tuple(result.diagnostics))
    try:
        rendered = compile_fleet(result.fleet)
    except Exception as exc:  # a compiler bug on one side must still not show as a diff
        return SideFailure(side, label, "compile", f"compiling the fleet failed: {type(exc).__name__}: {exc}")
    return from_rendered_set(label, rendered, result.fleet)


def _is_kustomize_config(data: Manifest) -> bool:
    return str(data.get("apiVersion", "")).startswith(KUSTOMIZE_CONFIG)


def _object_problem(document: YamlDocument) -> str | None:
    data = document.data
    if not isinstance(data, dict):
        return "not a Kubernetes object (expected a mapping)"
    metadata = data.get("metadata")
    missing = [f for f in ("apiVersion", "kind") if not isinstance(data.get(f), str) or not data.get(f)]
    if not isinstance(metadata, dict) or not isinstance(metadata.get("name"), str):
        missing.append("metadata.name")
    return f"not a Kubernetes object (no {', '.join(missing)})" if missing else None


def _where(document: YamlDocument) -> SourceLocation:
    mark = document.node.start_mark
    return SourceLocation(document.path, mark.line + 1, mark.column + 1)


def _objects(documents: Iterable[YamlDocument]) -> tuple[list[Manifest], list[Diagnostic]]:
    manifests: list[Manifest] = []
    problems: list[Diagnostic] = []
    seen: dict[ObjectKey, SourceLocation] = {}
    for document in documents:
        if document.data is None or (isinstance(document.data, dict) and _is_kustomize_config(document.data)):
            continue
        problem = _object_problem(document)
        if problem:
            problems.append(Diagnostic(_where(document), "", problem))
            continue
        key = ObjectKey.of(document.data)
        if key in seen:
            problems.append(Diagnostic(_where(document), "", f"{key} is already defined at {seen[key]}"))
            continue
        seen[key] = _where(document)
        manifests.append(document.data)
    return manifests, problems


def rendered_side(side: str, folder: Path | str) -> Side:
    """Every Kubernetes object under a built tree (``kustomization.yaml`` files are not objects)."""
    try:
        tree = DiskTree.open(folder)
    except FleetcError as exc:
        return SideFailure(side, str(folder), "load", str(exc))
    listing = tree.list_yaml()
    loaded = read_files(tree, listing.files)
    manifests, problems = _objects(loaded.documents)
    errors = _errors([*listing.problems, *loaded.diagnostics, *problems])
    if errors:
        message = f"the built tree cannot be read ({len(errors)} problem{'s' if len(errors) != 1 else ''})"
        return SideFailure(side, tree.label, "read", message, errors)
    if not manifests:
        return SideFailure(side, tree.label, "read", "no Kubernetes objects found; is this a built tree?")
    return from_objects(tree.label, manifests)
