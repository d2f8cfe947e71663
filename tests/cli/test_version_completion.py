"""``fleetc version`` / ``--version``, ``fleetc completion bash|zsh|fish`` and ``--debug`` after the subcommand."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
from click.testing import CliRunner

from fleetc.cli.main import cli
from tests.cli.conftest import RunFleetc

FLEETC = Path(sys.executable).parent / "fleetc"


def test_version_and_dash_dash_version_say_the_installed_version(fleetc: RunFleetc) -> None:
    expected = f"fleetc {version('fleetc')}"
    assert fleetc("--version").stdout.strip() == expected
    result = fleetc("version")
    assert result.exit_code == 0 and result.stdout.splitlines()[0] == expected
    assert "spec: fleetc.io/v1alpha1, CAPI: cluster.x-k8s.io/v1beta2" in result.stdout


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_prints_the_script_that_asks_fleetc(fleetc: RunFleetc, shell: str) -> None:
    result = fleetc("completion", shell)
    assert result.exit_code == 0
    assert "_FLEETC_COMPLETE" in result.stdout and f"{shell}_complete" in result.stdout


def test_completion_answers_as_the_script_asks() -> None:
    """What bash's completion function does on ``fleetc rol<TAB>`` and ``fleetc rollout s<TAB>``."""

    def complete(words: str, cword: int) -> str:
        env = {"_FLEETC_COMPLETE": "bash_complete", "COMP_WORDS": words, "COMP_CWORD": str(cword)}
        return CliRunner(env=env).invoke(cli, [], prog_name="fleetc").stdout

    assert complete("fleetc rol", 1).split() == ["plain,rollout"]
    assert complete("fleetc rollout s", 2).split() == ["plain,status"]
    assert "plain,--show-conditions" in complete("fleetc status --sh", 2).split()


@pytest.mark.skipif(shutil.which("bash") is None or not FLEETC.exists(), reason="needs bash and the fleetc script")
def test_bash_sources_the_script_and_completes_a_subcommand() -> None:
    script = (
        "source <(fleetc completion bash); COMP_WORDS=(fleetc compl); COMP_CWORD=1; "
        '_fleetc_completion fleetc; echo "${COMPREPLY[@]}"'
    )
    env = {**os.environ, "PATH": f"{FLEETC.parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["completion"]


def test_unknown_shell_is_a_usage_error(fleetc: RunFleetc) -> None:
    result = fleetc("completion", "tcsh")
    assert result.exit_code == 2 and "Invalid value for '{bash|zsh|fish}'" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("--debug", "validate", "--rev", "no-such-revision"),
        ("validate", "--rev", "no-such-revision", "--debug"),
        ("validate", "--debug", "--rev", "no-such-revision"),
    ],
)
def test_debug_before_or_after_the_subcommand_shows_the_error(
    fleetc: RunFleetc, tmp_path: Path, args: tuple[str, ...]
) -> None:
    (tmp_path / "fleet.yaml").write_text("apiVersion: fleetc.io/v1alpha1\nkind: Fleet\n")
    result = fleetc(*args, cwd=tmp_path)
    assert not isinstance(result.exception, SystemExit), result.output  # raised, with its traceback
    assert "not inside a git repository" in str(result.exception)


def test_without_debug_the_same_error_is_one_line(fleetc: RunFleetc, tmp_path: Path) -> None:
    (tmp_path / "fleet.yaml").write_text("apiVersion: fleetc.io/v1alpha1\nkind: Fleet\n")
    result = fleetc("validate", "--rev", "no-such-revision", cwd=tmp_path)
    assert result.exit_code == 2 and result.stderr.startswith("fleetc: error:")


def test_debug_after_a_nested_subcommand(fleetc: RunFleetc, tmp_path: Path) -> None:
    result = fleetc("rollout", "status", "--state", str(tmp_path / "none.json"), "--debug")
    assert result.exit_code == 2 and "does not exist" in result.stderr  # a click usage error, accepted --debug
