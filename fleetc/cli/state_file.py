"""Where the embedded plane keeps its state (``fleetc apply --local``, ``fleetc rollout …``, ``fleetc status``).

Default: ``.fleetc/state.json`` at the top of the git work tree that holds the fleet (in the fleet folder when it
is not in git), so every command finds it from any folder inside the repository: ``apply`` writes it there, the
others look for ``.fleetc/state.json`` in the current folder and each folder above it, up to the top of the work
tree. ``--state FILE`` overrides both. The first time fleetc creates ``.fleetc/`` it writes ``.fleetc/.gitignore``
(``*``: the folder ignores itself in git, as pytest's and mypy's caches do) and says so on stderr.
Callers: :mod:`fleetc.cli.rollout_cmds`, :mod:`fleetc.cli.steer_cmds`.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from fleetc.core.errors import NoRolloutError, TargetWriteError

STATE_DIR = ".fleetc"
STATE_NAME = "state.json"
IGNORE_ALL = "# the state of fleetc's embedded plane (fleetc apply --local): not for git\n*\n"


def _is_work_tree_top(folder: Path) -> bool:
    return os.path.exists(folder / ".git")  # a folder (clone) or a file (worktree, submodule)


def home_of(fleet_root: Path) -> Path:
    """The folder whose ``.fleetc/`` holds the state: the top of the git work tree holding the fleet, else the fleet."""
    resolved = fleet_root.resolve()
    for folder in (resolved, *resolved.parents):
        if _is_work_tree_top(folder):
            return folder
    return resolved


def default_state(fleet_root: Path) -> Path:
    """Where ``fleetc apply --local`` keeps the state of this fleet by default."""
    return home_of(fleet_root) / STATE_DIR / STATE_NAME


def find_state(cwd: Path) -> Path:
    """The nearest ``.fleetc/state.json`` at or above ``cwd`` (up to the top of the git work tree)."""
    resolved = cwd.resolve()
    for folder in (resolved, *resolved.parents):
        candidate = folder / STATE_DIR / STATE_NAME
        if candidate.is_file():
            return candidate
        if _is_work_tree_top(folder):
            break
    raise NoRolloutError(
        f"no {STATE_DIR}/{STATE_NAME} in this folder or any above it (up to the top of the git work tree): "
        "run fleetc apply --local first, or give --state"
    )


def prepare(state: Path) -> Path:
    """``state``, once its folder exists; a new ``.fleetc/`` gets its ``.gitignore`` and a note on stderr."""
    folder = state.parent
    fresh = folder.name == STATE_DIR and not folder.exists()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if fresh:
            (folder / ".gitignore").write_text(IGNORE_ALL, encoding="utf-8")
    except OSError as exc:
        raise TargetWriteError(f"{state}: cannot write the state file ({exc.strerror or exc})") from exc
    if fresh:
        click.echo(
            f"fleetc: keeping the embedded plane's state in {folder}/ (it ignores itself in git: "
            f"{STATE_DIR}/.gitignore holds '*'; or add {STATE_DIR}/ to your .gitignore)",
            err=True,
        )
    return state
