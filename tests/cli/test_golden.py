"""Golden output: ``fleetc validate`` on a deliberately broken fleet, compared byte for byte.

The fleet in ``tests/golden/broken-fleet/fleet/`` holds many different mistakes over several files. Run
``pytest tests/cli/test_golden.py --update-golden`` to rewrite ``expected.txt`` / ``expected.json`` after an
intended change of output, then read the diff: every line must name file:line:col, a field and an actionable
message.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.cli.conftest import RunFleetc

GOLDEN = Path(__file__).parents[1] / "golden" / "broken-fleet"


@pytest.mark.parametrize(
    ("output", "expected_file"),
    [
        pytest.param("text", "expected.txt", id="text"),
        pytest.param("json", "expected.json", id="json"),
    ],
)
def test_broken_fleet_output_matches_the_golden_file(
    fleetc: RunFleetc, update_golden: bool, output: str, expected_file: str
) -> None:
    result = fleetc("validate", "fleet", "--format", output, cwd=GOLDEN)
    assert result.exit_code == 1, result.output
    expected = GOLDEN / expected_file
    if update_golden:
        expected.write_text(result.stdout, encoding="utf-8")
    assert result.stdout == expected.read_text(encoding="utf-8")


def test_golden_files_agree_with_each_other() -> None:
    """The JSON and the text golden files describe the same diagnostics (guards a hand edit of one)."""
    payload = json.loads((GOLDEN / "expected.json").read_text(encoding="utf-8"))
    lines = (GOLDEN / "expected.txt").read_text(encoding="utf-8").splitlines()
    assert len(payload["diagnostics"]) == len(lines) - 1
    for diagnostic, line in zip(payload["diagnostics"], lines, strict=False):
        where = f"{diagnostic['file']}:{diagnostic['line']}:{diagnostic['column']}:"
        assert line.startswith(where)
        context = f" [{diagnostic['context']}]" if diagnostic["context"] else ""
        assert line.endswith(diagnostic["message"] + context)


FIELD_LINE = re.compile(r"^fleet/[\w/.-]+\.yaml:\d+:\d+:( warning:)? [A-Za-z][\w.\[\]-]*: \S")


def test_every_golden_line_names_file_line_column_and_field() -> None:
    lines = (GOLDEN / "expected.txt").read_text(encoding="utf-8").splitlines()[:-1]
    assert [line for line in lines if not FIELD_LINE.match(line)] == []


def test_golden_fleet_covers_many_mistakes() -> None:
    payload = json.loads((GOLDEN / "expected.json").read_text(encoding="utf-8"))
    files = {d["file"] for d in payload["diagnostics"]}
    assert len(files) >= 6
    assert len(payload["diagnostics"]) >= 40
    assert {d["severity"] for d in payload["diagnostics"]} == {"error", "warning"}
