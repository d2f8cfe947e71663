"""The CI examples stay in step with the CLI: their marker is the one fleetc writes, their options exist.

``examples/ci/github-actions.yml`` and ``examples/ci/gitlab-ci.yml`` find their previous comment by the marker at
the top of the markdown; every ``fleetc`` command line in them uses options the command really has.
"""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
import yaml

from fleetc.cli.main import cli
from fleetc.plan.formats.markdown import MARKER
from tests.plan.support import FleetRepo, run

EXAMPLES = Path(__file__).parents[2] / "examples" / "ci"
FILES = ["github-actions.yml", "gitlab-ci.yml"]
_COMMAND = re.compile(r"\bfleetc (validate|diff|plan)\b([^\n|>&;]*)")


@pytest.mark.parametrize("name", FILES)
def test_the_example_is_yaml_and_finds_the_comment_by_fleetcs_marker(name: str) -> None:
    text = (EXAMPLES / name).read_text()

    assert isinstance(yaml.safe_load(text), dict)
    assert MARKER in text


@pytest.mark.parametrize("name", FILES)
def test_every_fleetc_option_in_the_example_exists(name: str) -> None:
    commands = _COMMAND.findall((EXAMPLES / name).read_text())
    assert {command for command, _ in commands} >= {"validate", "diff", "plan"}
    for command, arguments in commands:
        group = cli.commands[command]
        assert isinstance(group, click.Command)
        known = {opt for param in group.params for opt in getattr(param, "opts", [])}
        for option in re.findall(r"(--[a-z-]+)", arguments):
            assert option in known, f"{name}: fleetc {command} has no {option}"


def test_the_markdown_comment_starts_with_the_marker(repo: FleetRepo) -> None:
    assert run("diff", "fleet", "--base", "HEAD", "--format", "markdown").stdout.startswith(MARKER + "\n")
    assert run("plan", "fleet", "--base", "HEAD", "--format", "markdown").stdout.startswith(MARKER + "\n")
