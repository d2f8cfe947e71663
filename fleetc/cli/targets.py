"""Which fleets a command works on, from the paths given on the command line.

``fleetc validate`` takes a fleet root, any folder inside a fleet, or files (as pre-commit passes them):
each file belongs to the nearest folder above it holding ``fleet.yaml``, and that whole fleet is validated,
since an edit in one file can break a reference in another.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from fleetc.core.errors import FleetNotFoundError
from fleetc.load.sources import DiskTree, GitTree, SourceTree, find_fleet_root


@dataclass(frozen=True)
class Targets:
    """Fleet roots to work on, and given files that belong to no fleet."""

    roots: tuple[Path, ...]
    strays: tuple[str, ...] = ()


def resolve_targets(paths: Sequence[str], cwd: Path) -> Targets:
    """Fleet roots for the given paths (the fleet around ``cwd`` when none are given)."""
    if not paths:
        return Targets((_root_of_folder(cwd, "."),))
    folders = [p for p in paths if Path(p).is_dir()]
    files = [p for p in paths if not Path(p).is_dir()]
    roots = [_root_of_folder(Path(p), p) for p in folders]
    strays = []
    for file in files:
        root = find_fleet_root(Path(file))
        if root is None:
            strays.append(file)
        else:
            roots.append(root)
    return Targets(tuple(dict.fromkeys(r.resolve() for r in roots)), tuple(strays))


def _root_of_folder(folder: Path, shown: str) -> Path:
    root = find_fleet_root(folder)
    if root is None:
        raise FleetNotFoundError(f"{shown}: no fleet.yaml here or in any folder above; not inside a fleet")
    return root


def open_tree(root: Path, cwd: Path, revision: str | None) -> SourceTree:
    """The source tree of a fleet root: the folder as it is, or a git revision of it."""
    if revision is not None:
        return GitTree.open(root, revision)
    return DiskTree(root, _shown(root, cwd))


def _shown(root: Path, cwd: Path) -> str:
    relative = os.path.relpath(root, cwd)
    return root.as_posix() if relative.startswith("..") else Path(relative).as_posix()
