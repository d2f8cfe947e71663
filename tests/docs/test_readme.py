"""Every command in the README's ``console`` blocks runs as shown, and prints what is shown.

The commands run one after another with bash in a copy of the repository's ``examples/`` that is a git repository
with an ``origin/main`` (as in a clone), with the installed ``fleetc`` first on PATH. A command exits 0 unless its
comment starts with ``exit N``. Output lines shown under a command must appear in its stdout, in order; a line ending in
``...`` matches any line starting with what comes before, and a line ``...`` stands for any lines. The one
placeholder, ``--crds path/to/crds``, becomes the upstream CRD folders. The ``sh`` block of management-cluster
commands cannot run without one: there each command must get past option parsing and stop for want of the cluster.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.upstream.reference import reference

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
BIN = Path(sys.executable).parent
PLACEHOLDER = "--crds path/to/crds"
TIMEOUT = 300


@dataclass
class Command:
    """A ``$ `` line of a console block, the exit code its comment promises and the output lines shown under it."""

    line: str
    exit_code: int = 0
    shown: list[str] = field(default_factory=list)


def _blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)


def console_commands(text: str) -> list[Command]:
    """The commands of every ``console`` block, in order."""
    commands: list[Command] = []
    for block in _blocks(text, "console"):
        for line in block.splitlines():
            if line.startswith("$ "):
                command, _, comment = line[2:].partition("  #")
                code = re.match(r"\s*exit (\d+)\b", comment)
                commands.append(Command(command.strip(), int(code.group(1)) if code else 0))
            elif commands and line.strip():
                commands[-1].shown.append(line)
    return commands


def unmatched(shown: list[str], actual: list[str]) -> list[str]:
    """The shown lines that do not appear, in order, in the actual output."""
    missing, position = [], 0
    for expected in shown:
        if expected.strip() == "...":
            continue
        prefix = expected[:-3].rstrip(" ") if expected.endswith("...") else None
        for index in range(position, len(actual)):
            line = actual[index].rstrip()
            if (prefix is not None and line.startswith(prefix)) or line == expected.rstrip():
                position = index + 1
                break
        else:
            missing.append(expected)
    return missing


COMMANDS = console_commands(README.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, subprocess.CompletedProcess[str]]:
    """Each README command's result, run in order in a fresh copy."""
    root = tmp_path_factory.mktemp("readme") / "clone"
    shutil.copytree(REPO / "examples", root / "examples")
    git = ["git", "-c", "user.name=readme", "-c", "user.email=readme@example.com"]
    steps = [
        ["init", "-q"],
        ["add", "-A"],
        ["commit", "-qm", "examples"],
        ["update-ref", "refs/remotes/origin/main", "HEAD"],
    ]
    for args in steps:
        subprocess.run([*git, *args], cwd=root, check=True, capture_output=True)
    crds = " ".join(f"--crds {folder}" for folder in reference().crds())
    env = {name: value for name, value in os.environ.items() if not name.startswith("FLEETC_")}
    env["PATH"] = f"{BIN}{os.pathsep}{env['PATH']}"
    results = {}
    for command in COMMANDS:
        line = command.line.replace(PLACEHOLDER, crds)
        results[command.line] = subprocess.run(["bash", "-c", line], cwd=root, env=env, capture_output=True,
                                               text=True, timeout=TIMEOUT, check=False)  # fmt: skip
    return results


def test_the_readme_shows_the_commands_a_reader_needs() -> None:
    lines = [c.line.split()[:2] for c in COMMANDS]
    for needed in (["fleetc", "validate"], ["fleetc", "build"], ["fleetc", "apply"], ["fleetc", "status"]):
        assert needed in lines
    assert not [c.line for c in COMMANDS if " | " in c.line], "a | in a command line is a shell pipe"


@pytest.mark.parametrize("command", COMMANDS, ids=[c.line for c in COMMANDS])
def test_a_readme_command_runs_as_shown(runs: dict[str, subprocess.CompletedProcess[str]], command: Command) -> None:
    result = runs[command.line]
    assert result.returncode == command.exit_code, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    assert unmatched(command.shown, result.stdout.splitlines()) == [], result.stdout[-3000:]


MANAGEMENT = [line.split("  #")[0].strip() for block in _blocks(README.read_text(encoding="utf-8"), "sh")
              for line in block.splitlines() if "--context" in line]  # fmt: skip


@pytest.mark.parametrize("line", MANAGEMENT)
def test_a_management_cluster_command_parses_and_stops_for_want_of_the_cluster(line: str, tmp_path: Path) -> None:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "KUBECONFIG": str(tmp_path / "none")}
    result = subprocess.run(["bash", "-c", line], cwd=REPO, env=env, capture_output=True, text=True, timeout=TIMEOUT,
                            check=False)  # fmt: skip
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith("fleetc: error: no kubeconfig found"), result.stderr


def test_unmatched_reads_the_shown_output_as_documented() -> None:
    actual = ["out: wrote 59 files (3 A, 4 B)", "x", "rollout acme: Complete +2h"]
    assert unmatched(["out: wrote 59 files (3 A, ...", "...", "rollout acme: Complete ..."], actual) == []
    assert unmatched(["out: wrote 57 files (3 A, ..."], actual) == ["out: wrote 57 files (3 A, ..."]
    assert unmatched(["rollout acme: Complete ...", "x"], actual) == ["x"]  # order matters
