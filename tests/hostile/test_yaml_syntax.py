"""Unreadable bytes and broken YAML: each is one clean diagnostic at ``file:line:col`` and exit code 1.

Covers: malformed YAML, duplicate keys (top-level, nested, in flow mappings), non-UTF-8 bytes, NUL bytes and
other control characters. The expected position is computed from the input (where the offending key, byte or
character was written), and the rest of the fleet is still loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.loading.support import run_cli

HOSTILE = "fleet/clusters/hostile.yaml"
HEAD = b"apiVersion: fleetc.io/v1alpha1\nkind: Cluster\n"
BODY = b"metadata:\n  name: dup-1\nspec:\n  class: edge\n  provider: local-docker\n"  # a valid Cluster with HEAD


@dataclass(frozen=True)
class Case:
    """Bytes to write, the text at which the problem sits (its ``occurrence``), and a message fragment."""

    content: bytes
    at: bytes
    fragment: str
    occurrence: int = 1

    def position(self) -> tuple[int, int]:
        index = -1
        for _ in range(self.occurrence):
            index = self.content.index(self.at, index + 1)
        line_start = self.content.rfind(b"\n", 0, index) + 1
        return self.content.count(b"\n", 0, index) + 1, index - line_start + 1


CASES = {
    "mapping-value-in-plain-scalar": Case(HEAD + b"metadata: name: x\n", b": x", "invalid YAML"),
    "tab-indentation": Case(HEAD + b"metadata:\n\tname: x\n", b"\t", "invalid YAML"),
    "duplicate-top-level-key": Case(HEAD + BODY + b"kind: Cluster\n", b"kind", "duplicate key 'kind'", 2),
    "duplicate-nested-key": Case(
        HEAD + BODY + b"  workers:\n    apps:\n      replicas: 3\n      replicas: 4\n",
        b"replicas",
        "duplicate key 'replicas' (first defined on line 10)",
        2,
    ),
    "duplicate-key-in-flow-mapping": Case(
        HEAD
        + b"metadata: {name: dup-2, labels: {ring: broad, ring: early}}\nspec: {class: edge, provider: local-docker}\n",
        b"ring",
        "duplicate key 'ring'",
        2,
    ),
    "latin-1-byte": Case(HEAD + b"metadata:\n  name: caf\xe9\n", b"\xe9", "not valid UTF-8"),
    "utf-16-file": Case("apiVersion: x\n".encode("utf-16"), b"\xff", "not valid UTF-8"),
    "truncated-utf-8-sequence": Case(HEAD + b"metadata: {name: \xe2\x82}\n", b"\xe2", "not valid UTF-8"),
    "nul-byte": Case(HEAD + b"metadata:\n  name: a\x00b\n", b"\x00", "#x0000"),
    "bell-control-character": Case(HEAD + b"metadata:\n  name: a\x07b\n", b"\x07", "#x0007"),
    "escape-control-character": Case(HEAD + b"metadata:\n  name: \x1b[31mred\n", b"\x1b", "#x001b"),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_one_located_diagnostic_and_exit_code_1(fleet: Path, case: Case) -> None:
    (fleet / "clusters" / "hostile.yaml").write_bytes(case.content)

    outcome = run_cli("validate", "fleet")

    assert outcome.exit_code == 1, outcome.output
    assert "Traceback" not in outcome.output
    line, column = case.position()
    reported = outcome.lines_about(HOSTILE)
    assert len(reported) == 1, outcome.output
    assert reported[0].startswith(f"{HOSTILE}:{line}:{column}:"), f"expected {line}:{column}, got {reported[0]}"
    assert case.fragment.lower() in reported[0].lower(), reported[0]


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_only_the_hostile_file_is_reported_and_the_fleet_still_loads(fleet: Path, case: Case) -> None:
    (fleet / "clusters" / "hostile.yaml").write_bytes(case.content)

    outcome = run_cli("validate", "fleet")

    *findings, verdict = outcome.output.splitlines()
    assert findings, outcome.output
    assert all(line.startswith(f"{HOSTILE}:") for line in findings), outcome.output
    assert verdict.startswith("fleet: fleet acme: "), verdict


def test_a_utf8_bom_is_accepted(fleet: Path) -> None:
    """Control for the UTF-8 cases: a BOM is valid UTF-8 and the document is read."""
    text = (fleet / "providers" / "local.yaml").read_bytes()
    (fleet / "providers" / "local.yaml").write_bytes(b"\xef\xbb\xbf" + text)

    outcome = run_cli("validate", "fleet")

    assert outcome.exit_code == 0, outcome.output
