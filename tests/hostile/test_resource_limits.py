"""Input built to exhaust time, memory or the stack is refused quickly with a located diagnostic.

Covers: the "billion laughs" alias bomb (9 levels of 9 aliases), the same bomb through merge keys (``<<``),
recursive aliases, a 50 MB file (refused by size, never parsed), and 10,000-deep nesting in flow and block style.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.loading.support import run_cli

HOSTILE = "fleet/clusters/hostile.yaml"
QUICK_SECONDS = 3.0  # the real work is milliseconds; a bomb that is expanded takes minutes or never ends


def _alias_bomb(levels: int = 9, width: int = 9) -> str:
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for level in range(1, levels):
        lines.append(f"a{level}: &a{level} [{', '.join([f'*a{level - 1}'] * width)}]")
    return "\n".join(lines) + "\n"


def _merge_bomb(levels: int = 9, width: int = 9) -> str:
    """Like the alias bomb, but every level merges the previous one ``width`` times into an empty mapping."""
    lines = ["m0: &m0 {}"]
    for level in range(1, levels):
        lines.append(f"m{level}: &m{level} {{<<: [{', '.join([f'*m{level - 1}'] * width)}]}}")
    return "\n".join(lines) + "\n"


def _timed_validate(fleet: Path) -> tuple[str, int, float]:
    started = time.monotonic()
    outcome = run_cli("validate", "fleet")
    return outcome.output, outcome.exit_code, time.monotonic() - started


def _reported(output: str) -> list[tuple[int, int, str]]:
    found = re.findall(rf"^{re.escape(HOSTILE)}:(\d+):(\d+): (.*)$", output, flags=re.M)
    return [(int(line), int(column), message) for line, column, message in found]


@pytest.mark.parametrize(
    "text",
    [
        _alias_bomb(),
        "apiVersion: fleetc.io/v1alpha1\nkind: Cluster\nmetadata:\n  name: bomb-1\n  labels: &l {ring: broad}\n"
        + "spec:\n  class: edge\n  provider: local-docker\n  variables:\n"
        + "".join(f"    v{i}: &v{i} [{', '.join([f'*v{i - 1}' if i else '*l'] * 9)}]\n" for i in range(9)),
    ],
    ids=["bare-billion-laughs", "inside-a-cluster-document"],
)
def test_an_alias_bomb_is_refused_quickly(fleet: Path, text: str) -> None:
    (fleet / "clusters" / "hostile.yaml").write_text(text)

    output, exit_code, seconds = _timed_validate(fleet)

    assert exit_code == 1, output
    assert "Traceback" not in output
    assert seconds < QUICK_SECONDS
    assert any("alias" in message for *_, message in _reported(output)), output


def test_a_merge_key_alias_bomb_finishes_quickly(fleet: Path) -> None:
    """Run in a child process: if ``<<`` merges are expanded without a budget, this would run for minutes."""
    (fleet / "clusters" / "hostile.yaml").write_text(_merge_bomb())
    command = [sys.executable, "-m", "fleetc", "validate", "fleet"]

    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=QUICK_SECONDS + 1, check=False)
    except subprocess.TimeoutExpired:
        pytest.fail(f"a 9x9 merge-key alias bomb was not refused within {QUICK_SECONDS + 1} s")

    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert _reported(done.stdout), done.stdout


@pytest.mark.parametrize(
    "text",
    ["a: &x [*x]\n", "a: &x {b: *x}\n", "a: &x {<<: *x}\n", "a: &x [1, {b: [*x]}]\n"],
    ids=["sequence", "mapping", "merge-key", "through-nested-nodes"],
)
def test_a_recursive_alias_is_refused_at_its_line(fleet: Path, text: str) -> None:
    (fleet / "clusters" / "hostile.yaml").write_text(text)

    output, exit_code, seconds = _timed_validate(fleet)

    assert exit_code == 1, output
    assert "Traceback" not in output
    assert seconds < QUICK_SECONDS
    reported = _reported(output)
    assert reported, f"no line:col for {HOSTILE} in:\n{output}"
    assert all(line == 1 for line, _, _ in reported), output
    assert any("alias" in message or "nesting" in message for *_, message in reported), output


@pytest.mark.parametrize("content", ["zeros", "yaml-line"], ids=["sparse-zeros", "one-long-yaml-line"])
def test_a_50_mb_file_is_refused_unread(fleet: Path, content: str) -> None:
    path = fleet / "clusters" / "huge.yaml"
    size = 50 * 2**20
    with path.open("wb") as huge:
        if content == "zeros":
            huge.truncate(size)  # sparse: NUL bytes that the YAML reader would reject if it ever saw them
        else:
            huge.write(b"key: " + b"x" * (size - 6) + b"\n")

    output, exit_code, seconds = _timed_validate(fleet)

    assert exit_code == 1, output
    assert "Traceback" not in output
    assert seconds < QUICK_SECONDS
    lines = [line for line in output.splitlines() if line.startswith("fleet/clusters/huge.yaml")]
    assert len(lines) == 1, output
    assert "50.0 MiB" in lines[0]
    assert "refused" in lines[0]
    assert "invalid YAML" not in output


@pytest.mark.parametrize(
    "text",
    [
        "[" * 10_000 + "]" * 10_000 + "\n",
        "{a: " * 10_000 + "1" + "}" * 10_000 + "\n",
        "- " * 10_000 + "leaf\n",
        "key:\n" + "".join(" " * depth + f"k{depth}:\n" for depth in range(1, 200)) + " " * 200 + "leaf\n",
        "apiVersion: fleetc.io/v1alpha1\nkind: Cluster\nmetadata: {name: deep-1, labels: "
        + "{a: " * 10_000
        + "1"
        + "}" * 10_001
        + "\n",
    ],
    ids=["flow-sequences", "flow-mappings", "block-sequences", "block-mappings-200", "inside-a-document"],
)
def test_deep_nesting_is_refused_at_its_line(fleet: Path, text: str) -> None:
    (fleet / "clusters" / "hostile.yaml").write_text(text)

    output, exit_code, seconds = _timed_validate(fleet)

    assert exit_code == 1, output
    assert "Traceback" not in output
    assert seconds < QUICK_SECONDS
    reported = _reported(output)
    assert len(reported) == 1, output
    assert "nesting" in reported[0][2], output


def test_ordinary_anchors_aliases_and_merge_keys_are_accepted(fleet: Path) -> None:
    """Control for the bombs: modest reuse through anchors, aliases and ``<<`` is normal YAML and loads."""
    (fleet / "clusters" / "anchors.yaml").write_text(
        "apiVersion: fleetc.io/v1alpha1\nkind: Cluster\nmetadata:\n  name: anchored-1\n"
        "  labels: &labels {ring: broad, env: prod}\n  annotations: *labels\n"
        "spec:\n  <<: &base {class: edge, provider: local-docker}\n  channel: rapid\n"
    )

    outcome = run_cli("validate", "fleet")

    assert outcome.exit_code == 0, outcome.output
