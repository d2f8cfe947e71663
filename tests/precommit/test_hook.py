"""The ``fleetc-validate`` hook of ``.pre-commit-hooks.yaml``, run by the real pre-commit framework.

Each scenario is a temporary git repository holding a copy of examples/fleet (under ``fleet/``, or as the whole
repository) and some YAML files of other tools, and runs ``pre-commit try-repo <this repository> fleetc-validate``
in it. try-repo builds the hook's virtualenv from this repository as committed plus the uncommitted changes of
tracked files (new, untracked files are left out), installing fleetc's dependencies from the package index.

try-repo keeps hook environments in a temporary store of its own and ignores ``PRE_COMMIT_HOME``, so every run
installs the environment afresh (~11 s alone here). The scenarios are independent, so the module fixture runs
them concurrently: about 30-45 s for all of them on two cores, instead of about a minute one after another.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_FLEET = REPO_ROOT / "examples" / "fleet"
PRE_COMMIT = Path(sys.executable).parent / "pre-commit"
TIMEOUT = 600

OUTSIDE_FILES = {
    # YAML of other tools: each would be an error if fleetc read it as a fleet document.
    ".github/workflows/ci.yml": "name: ci\non: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n",
    "other/config.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\ndata: {replicas: '3'}\n",
}


# A class, a provider and a cluster of the tests' own, added to the example fleet where a scenario needs them, so
# expected positions do not depend on how the example fleet is written.
TEAM_FILES = {
    "fleet/providers/hook-test.yaml": (
        "apiVersion: fleetc.io/v1alpha1\nkind: Provider\nmetadata: {name: hook-test-sim}\nspec: {type: dev-inmemory}\n"
    ),
    "fleet/classes/hook-test.yaml": (
        "apiVersion: fleetc.io/v1alpha1\nkind: ClusterClass\nmetadata:\n  name: hook-test\nspec:\n"
        "  controlPlane: {replicas: 1, size: small}\n  workers:\n    apps: {size: small, replicas: 1}\n"
    ),
    "fleet/clusters/hook-test.yaml": (
        "apiVersion: fleetc.io/v1alpha1\nkind: Cluster\nmetadata:\n  name: hook-test-1\n  labels: {ring: canary}\n"
        "spec:\n  class: hook-test\n  provider: hook-test-sim\n  workers:\n    apps: {replicas: 2}\n"
    ),
}
TYPO_FILE = "fleet/clusters/typo.yaml"
TYPO_TEXT = (
    TEAM_FILES["fleet/clusters/hook-test.yaml"].replace("hook-test-1", "typo-1").replace("{replicas:", "{replcas:")
)
VALID_VERDICT = r"^{root}: fleet [a-z0-9-]+: \d+ clusters?, .* — valid$"


@dataclass(frozen=True)
class HookRun:
    """The outcome of one ``pre-commit try-repo`` run."""

    returncode: int
    output: str
    seconds: float

    def __str__(self) -> str:
        return f"exit {self.returncode} after {self.seconds:.1f} s:\n{self.output}"


def _environment(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT"))}
    env.update(PRE_COMMIT_HOME=str(home), PRE_COMMIT_COLOR="never", NO_COLOR="1")
    return env


def git(repo: Path, *args: str) -> None:
    """Run git in ``repo`` without relying on any global configuration."""
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        env=_environment(repo.parent / "pre-commit-home"),
    )


def make_repo(root: Path, extra: dict[str, str] | None = None) -> Path:
    """A git repository with the example fleet under ``fleet/``, the outside files and ``extra``, all committed."""
    repo = root / "repo"
    repo.mkdir(parents=True)
    git(repo, "init", "-q")
    shutil.copytree(EXAMPLE_FLEET, repo / "fleet")
    for name, text in {**OUTSIDE_FILES, **(extra or {})}.items():
        write(repo / name, text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "fleet")
    return repo


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} is not once in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def position(text: str, needle: str) -> tuple[int, int]:
    """1-based line and column of the only occurrence of ``needle`` in a text."""
    found = [(n + 1, line.index(needle) + 1) for n, line in enumerate(text.splitlines()) if needle in line]
    assert len(found) == 1, f"{needle!r} is not once in {text!r}"
    return found[0]


def try_repo(repo: Path, *args: str) -> HookRun:
    """``pre-commit try-repo <this repository> fleetc-validate ARGS`` with ``repo`` as the current folder."""
    command = [str(PRE_COMMIT), "try-repo", str(REPO_ROOT), "fleetc-validate", "--verbose", "--color=never", *args]
    started = time.monotonic()
    done = subprocess.run(
        command,
        cwd=repo,
        env=_environment(repo.parent / "pre-commit-home"),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    return HookRun(done.returncode, done.stdout + done.stderr, time.monotonic() - started)


# --- scenarios: each prepares a repository and runs the hook; the fixture runs them concurrently -----------


def broken_field(root: Path) -> HookRun:
    """A new cluster file with a typo; every file is passed to the hook."""
    repo = make_repo(root, TEAM_FILES)
    write(repo / TYPO_FILE, TYPO_TEXT)
    git(repo, "add", "-A")
    return try_repo(repo, "--all-files")


def broken_reference(root: Path) -> HookRun:
    """A class renamed, the only staged change, while a cluster in another file still uses its old name."""
    repo = make_repo(root, TEAM_FILES)
    edit(repo / "fleet/classes/hook-test.yaml", "name: hook-test\n", "name: hook-test-renamed\n")
    git(repo, "add", "fleet/classes/hook-test.yaml")
    return try_repo(repo)


def valid_with_outside_files(root: Path) -> HookRun:
    """The valid example fleet and YAML files of other tools next to it; every file is passed to the hook."""
    return try_repo(make_repo(root), "--all-files")


def outside_change_only(root: Path) -> HookRun:
    """Only YAML files outside the fleet are changed and staged."""
    repo = make_repo(root)
    for name, text in OUTSIDE_FILES.items():
        write(repo / name, text + "# changed\n")
    write(repo / "other/new.yml", "not: [a, fleet, document]\n")
    git(repo, "add", "-A")
    return try_repo(repo)


def fleet_at_repo_root(root: Path) -> HookRun:
    """The fleet is the whole repository; a changed workflow file sits in a hidden folder of the fleet root."""
    repo = root / "repo"
    shutil.copytree(EXAMPLE_FLEET, repo)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "fleet")
    write(repo / ".github/workflows/ci.yml", OUTSIDE_FILES[".github/workflows/ci.yml"])
    git(repo, "add", "-A")
    return try_repo(repo)


SCENARIOS: dict[str, Callable[[Path], HookRun]] = {
    scenario.__name__: scenario
    for scenario in (broken_field, broken_reference, valid_with_outside_files, outside_change_only, fleet_at_repo_root)
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, HookRun]:
    """Every scenario's run; each gets its own repository and PRE_COMMIT_HOME under pytest's tmp folder."""
    roots = {name: tmp_path_factory.mktemp(name) for name in SCENARIOS}
    with ThreadPoolExecutor(max_workers=len(SCENARIOS)) as pool:
        futures = {name: pool.submit(scenario, roots[name]) for name, scenario in SCENARIOS.items()}
        results = {name: future.result() for name, future in futures.items()}
    for name, run in results.items():
        print(f"{name}: exit {run.returncode} in {run.seconds:.1f} s")
    return results


def test_hook_reports_an_unknown_field_with_its_position(runs: dict[str, HookRun]) -> None:
    run = runs["broken_field"]
    line, column = position(TYPO_TEXT, "replcas")

    assert run.returncode == 1, run
    assert "fleetc validate" in run.output and "Failed" in run.output, run
    expected = f"{TYPO_FILE}:{line}:{column}: spec.workers.apps.replcas: unknown field 'replcas'"
    assert expected in run.output, run
    assert "(did you mean 'replicas'?)" in run.output, run
    assert "other/config.yaml" not in run.output and "ci.yml" not in run.output, run


def test_hook_validates_the_whole_fleet_of_a_changed_file(runs: dict[str, HookRun]) -> None:
    run = runs["broken_reference"]
    cluster_file = "fleet/clusters/hook-test.yaml"
    line, column = position(TEAM_FILES[cluster_file], "class: hook-test")
    column += len("class: ")

    assert run.returncode == 1, run
    assert f"{cluster_file}:{line}:{column}: spec.class: no ClusterClass 'hook-test'" in run.output, run


def test_hook_passes_a_valid_fleet_beside_other_yaml(runs: dict[str, HookRun]) -> None:
    run = runs["valid_with_outside_files"]

    assert run.returncode == 0, run
    assert "Passed" in run.output, run
    assert re.search(VALID_VERDICT.format(root="fleet"), run.output, re.MULTILINE), run
    assert "other/config.yaml" not in run.output and "ci.yml" not in run.output, run


def test_hook_ignores_changed_yaml_outside_any_fleet(runs: dict[str, HookRun]) -> None:
    run = runs["outside_change_only"]

    assert run.returncode == 0, run
    assert "Passed" in run.output, run
    assert "none of the 3 given files is inside a fleet; nothing to validate" in run.output, run


def test_hook_skips_hidden_folders_of_a_fleet_at_the_repository_root(runs: dict[str, HookRun]) -> None:
    run = runs["fleet_at_repo_root"]

    assert run.returncode == 0, run
    assert re.search(VALID_VERDICT.format(root=r"\."), run.output, re.MULTILINE), run
