"""Helpers shared by the loading and hostile-input tests: real git repositories, the CLI, tree snapshots.

Nothing here is a mock: ``git`` runs the real git CLI, ``run_cli`` runs the real click command in-process.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from fleetc import Diagnostic, MemoryTree, SourceTree, ValidationResult
from fleetc.cli.main import cli

EXAMPLE_FLEET = Path(__file__).resolve().parents[2] / "examples" / "fleet"
_GIT_IDENTITY = ("-c", "user.name=t", "-c", "user.email=t@t", "-c", "init.defaultBranch=main")
_GIT_ENV = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}


def copy_example(destination: Path) -> Path:
    """A fresh copy of ``examples/fleet`` at ``destination``."""
    shutil.copytree(EXAMPLE_FLEET, destination)
    return destination


def git(repo: Path, *args: str) -> str:
    """Run the real git CLI in ``repo`` (no global config needed) and return its stdout."""
    done = subprocess.run(
        ["git", *_GIT_IDENTITY, "-C", str(repo), *args],
        check=True,
        capture_output=True,
        text=True,
        env=_GIT_ENV,
    )
    return done.stdout


def commit_all(repo: Path, message: str = "change") -> str:
    """``git init`` (when needed), stage everything and commit; returns the commit id."""
    if not (repo / ".git").exists():
        git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", message)
    return git(repo, "rev-parse", "HEAD").strip()


def memory_tree_of(root: Path, label: str = "<memory>") -> MemoryTree:
    """Every regular file under ``root`` (hidden ones included: the tree must skip them itself)."""
    files = {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
    return MemoryTree(files, label)


def relative(tree: SourceTree, diagnostic: Diagnostic) -> tuple[str, int, int, str, str, str]:
    """A diagnostic with the tree's label stripped from its path, for comparing trees."""
    path = diagnostic.location.path.removeprefix(tree.label).lstrip("/")
    message = diagnostic.message.replace(f"{tree.label}/", "<root>/")
    loc = diagnostic.location
    return path, loc.line, loc.column, diagnostic.field, message, diagnostic.severity.value


def shown(result: ValidationResult) -> str:
    """All diagnostics of a result, one a line, for assertion messages."""
    return "\n".join(map(str, result.diagnostics)) or "(no diagnostics)"


@dataclass(frozen=True)
class CliOutcome:
    """What a CLI run printed (stdout and stderr together) and its exit code."""

    exit_code: int
    output: str

    def lines_about(self, path: str) -> list[str]:
        """Output lines that report on ``path`` (``path:`` or ``path:line:col:``)."""
        return [line for line in self.output.splitlines() if re.match(rf"{re.escape(path)}(:\d+:\d+)?:", line)]


def run_cli(*args: str) -> CliOutcome:
    """Run ``fleetc ARGS`` in-process; an exception escaping the command fails the test with its traceback."""
    result = CliRunner().invoke(cli, list(args), catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"fleetc {' '.join(args)} raised instead of reporting:\n{result.output}") from (
            result.exception
        )
    return CliOutcome(result.exit_code, result.output)
