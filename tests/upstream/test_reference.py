"""Reference data: the pins agree with the wrapper modules, the CRDs come from the pinned modules, the project's CAPI
status fixtures pass those CRDs, and a missing Go skips (or, on CI, fails) exactly the tests that need it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

from fleetc.render.crds import CrdSchemas
from tests.upstream import pins
from tests.upstream.plugin import namespace_name
from tests.upstream.reference import CAPI_CRDS, FLUX_CRDS, PROVIDER_CRDS, Reference

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = (
    "healthy-v1.34.2",
    "cp-upgrading",
    "cp-upgraded-workers-upgrading",
    "upgrade-complete-v1.35.0",
    "cp-new-machine-never-gets-node",
    "create-cp-never-initializes",
    "cp-remediation-exhausted",
    "real-create-cp-never-boots",
)


def go_mod_versions(text: str) -> dict[str, str]:
    """Module path -> the version a go.mod selects (a ``replace`` with a version wins over ``require``)."""
    versions: dict[str, str] = {}
    for match in re.finditer(r"^\s*(?:require\s+)?([\w./-]+)\s+(v[\w.+-]+)(?:\s*//.*)?$", text, re.MULTILINE):
        versions[match[1]] = match[2]
    for match in re.finditer(r"^\s*(?:replace\s+)?([\w./-]+)\s+=>\s+([\w./-]+)\s+(v[\w.+-]+)", text, re.MULTILINE):
        versions[match[1]] = match[3]
    return versions


def test_every_wrapper_module_requires_its_pinned_version() -> None:
    for build in pins.load().builds.values():
        versions = go_mod_versions((build.gomod / "go.mod").read_text())
        assert versions.get(build.module.path) == build.module.version, build.name
        assert (build.gomod / "go.sum").stat().st_size > 0


def test_no_wrapper_module_disagrees_with_any_pin() -> None:
    pinned = {module.path: module.version for module in pins.load().modules.values()}
    for build in pins.load().builds.values():
        versions = go_mod_versions((build.gomod / "go.mod").read_text())
        assert {path: versions[path] for path in pinned.keys() & versions.keys()} == {
            path: pinned[path] for path in pinned.keys() & versions.keys()
        }, build.name


def test_kubernetes_staging_modules_are_replaced_with_the_matching_release() -> None:
    text = (pins.load().builds["apiserver"].gomod / "go.mod").read_text()
    staging = pins.load().modules["kubernetes-staging"].version
    replaced = re.findall(r"^\s*(k8s\.io/[\w-]+) => \1 (v[\w.]+)$", text, re.MULTILINE)
    assert len(replaced) > 20 and {version for _, version in replaced} == {staging}
    assert pins.load().modules["kubernetes"].version.removeprefix("v1.") == staging.removeprefix("v0.")


def test_the_crd_groups_cover_every_pinned_crd_folder() -> None:
    assert set(CAPI_CRDS + PROVIDER_CRDS + FLUX_CRDS) == set(pins.load().crds)


def test_crd_folders_come_from_the_pinned_modules(reference: Reference) -> None:
    for source, folder in zip(pins.load().crds.values(), reference.crds(), strict=True):
        assert f"{source.module.path}@{source.module.version}" in folder.as_posix()
        documents = [yaml.safe_load(path.read_text()) for path in sorted(folder.glob("*.yaml"))]
        assert documents and {d["kind"] for d in documents} == {"CustomResourceDefinition"}, source.name


def test_capd_crds_serve_the_in_memory_dev_kinds(reference: Reference) -> None:
    kinds = {path.name.split("_")[1] for path in reference.crd_folder("capd").glob("*.yaml")}
    assert {"devclusters.yaml", "devmachines.yaml", "devmachinetemplates.yaml", "dockerclusters.yaml"} <= kinds


def test_every_capi_status_fixture_passes_the_real_crd_schemas(reference: Reference) -> None:
    schemas = CrdSchemas.load(reference.crds(*CAPI_CRDS))
    found = sorted(p.name for p in reference.capi_status.iterdir() if p.is_dir())
    assert found == sorted(SCENARIOS)
    checked = 0
    for scenario in SCENARIOS:
        for path in sorted((reference.capi_status / scenario).glob("*.yaml")):
            obj = yaml.safe_load(path.read_text())
            assert schemas.violations(obj) == [], path
            checked += 1
    assert checked == 88


def test_namespace_names_are_valid_and_distinct() -> None:
    names = {namespace_name("test_a[Very_Long-param/Name " + "x" * 80 + "]") for _ in range(20)}
    assert len(names) == 20
    for name in names:
        assert len(name) <= 63 and re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", name), name


INNER = """
from tests.upstream.reference import reference

def test_needs_upstream_crds():
    reference().crds()

def test_needs_only_project_fixtures():
    assert (reference().capi_status / "README.md").is_file()
"""


def run_without_go(tmp_path: Path, ci: bool) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_inner.py").write_text(INNER)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env.update(PATH=str(tmp_path / "empty"), PYTHONPATH=str(REPO), **({"CI": "true"} if ci else {}))
    command = [sys.executable, "-m", "pytest", "-q", "-p", "tests.upstream.plugin", "-p", "no:cacheprovider"]
    return subprocess.run([*command, str(tmp_path)], cwd=tmp_path, env=env, capture_output=True, text=True, check=False)


def test_without_go_tests_that_need_it_are_skipped_with_one_line(tmp_path: Path) -> None:
    result = run_without_go(tmp_path, ci=False)

    assert result.returncode == 0, result.stdout
    assert "1 passed, 1 skipped" in result.stdout
    loud = [line for line in result.stdout.splitlines() if line.startswith("upstream:")]
    assert len(loud) == 1 and loud[0].startswith("upstream: 1 tests SKIPPED: Go is not installed"), result.stdout


def test_without_go_on_ci_the_run_fails(tmp_path: Path) -> None:
    result = run_without_go(tmp_path, ci=True)

    assert result.returncode == 1
    assert "1 failed, 1 passed" in result.stdout
    assert "Go is not installed" in result.stdout and "CI is set" in result.stdout
