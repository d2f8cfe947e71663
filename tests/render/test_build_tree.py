"""``fleetc build``: the output tree is deterministic, accepted by the real CRDs and by ``kubectl kustomize``."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from fleetc.cli.main import cli
from fleetc.core.keys import ObjectKey
from tests.render.support import EXAMPLE, REPO, all_crds, build_folder, copy_example, read_tree

GOLDEN = REPO / "tests" / "golden" / "example-build"
KUBECTL = shutil.which("kubectl")


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_two_builds_are_byte_identical_from_any_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert run("build", str(EXAMPLE), "--out-dir", str(tmp_path / "a"), "--flux-path", "./out")[0] == 0
    monkeypatch.chdir(tmp_path)
    assert run("build", os.path.relpath(EXAMPLE, tmp_path), "--out-dir", "b", "--flux-path", "./out")[0] == 0
    assert read_tree(tmp_path / "a") == read_tree(tmp_path / "b")


def test_every_object_passes_the_upstream_crd_schemas() -> None:
    schemas, built = all_crds(), build_folder(EXAMPLE)
    flux = [
        yaml.safe_load(data)
        for path, data in built.files.items()
        if path.startswith("flux/") and "kustomization" not in path
    ]
    manifests = [*built.rendered.manifests(), *flux]
    checked = [m for m in manifests if m["apiVersion"] != "v1"]  # core objects (Namespace, ConfigMap) have no CRD
    assert all(schemas.knows(m) for m in checked)
    assert {
        str(ObjectKey.of(m)): [str(v) for v in schemas.violations(m)] for m in checked if schemas.violations(m)
    } == {}


def test_every_object_carries_its_source_line() -> None:
    built = build_folder(EXAMPLE)
    for manifest in built.rendered.manifests():
        source = manifest["metadata"]["annotations"]["fleetc.io/source"]
        path, _, line = source.rpartition(":")
        assert (EXAMPLE / path).is_file() and int(line) >= 1


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is installed on the project's machines; CI has it")
def test_kubectl_kustomize_yields_exactly_the_rendered_objects(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run("build", str(EXAMPLE), "--out-dir", str(out), "--flux-path", "./out")[0] == 0
    built = build_folder(EXAMPLE)
    result = subprocess.run([str(KUBECTL), "kustomize", str(out)], capture_output=True, text=True, check=True)
    objects = {ObjectKey.of(d): d for d in yaml.safe_load_all(result.stdout) if d}
    assert objects == {key: built.rendered.objects[key].manifest for key in built.rendered.objects}
    for wave in built.rendered.waves:
        wave_out = subprocess.run(
            [str(KUBECTL), "kustomize", str(out / "waves" / wave.wave.name)], capture_output=True, text=True, check=True
        ).stdout
        assert sorted(d["metadata"]["name"] for d in yaml.safe_load_all(wave_out) if d) == list(wave.clusters)


def test_the_example_output_matches_its_golden_files(tmp_path: Path, update_golden: bool) -> None:
    out = tmp_path / "out"
    assert run("build", str(EXAMPLE), "--out-dir", str(out), "--flux-path", "./clusters/acme")[0] == 0
    actual = {path: data for path, data in read_tree(out).items() if path != ".fleetc-output"}
    if update_golden:
        shutil.rmtree(GOLDEN, ignore_errors=True)
        for path, data in actual.items():
            (GOLDEN / path).parent.mkdir(parents=True, exist_ok=True)
            (GOLDEN / path).write_bytes(data)
    assert actual == read_tree(GOLDEN)


def test_check_fails_on_a_stale_tree_and_passes_on_a_fresh_one(tmp_path: Path) -> None:
    fleet, out = copy_example(tmp_path), tmp_path / "out"
    assert run("build", str(fleet), "--out-dir", str(out), "--flux-path", "./out")[0] == 0
    files = len(read_tree(out)) - 1  # without the .fleetc-output marker
    assert run("build", str(fleet), "--out-dir", str(out), "--check", "--flux-path", "./out") == (
        0,
        f"{out}: up to date ({files} files)\n",
    )
    before = read_tree(out)
    path = fleet / "clusters" / "prod.yaml"
    path.write_text(path.read_text().replace("{min: 6, max: 24}", "{min: 6, max: 30}"))
    code, output = run("build", str(fleet), "--out-dir", str(out), "--check", "--flux-path", "./out")
    assert code == 1 and f"{out}/clusters/eu-prod-1/cluster.yaml: changed" in output
    assert read_tree(out) == before, "--check writes nothing"


def test_cluster_option_builds_a_subset_with_its_classes(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run("build", str(EXAMPLE), "--out-dir", str(out), "--cluster", "eu-prod-1", "--flux-path", "./out")[0] == 0
    tree = read_tree(out)
    assert [p for p in tree if p.startswith("clusters/") and p.endswith("cluster.yaml")] == [
        "clusters/eu-prod-1/cluster.yaml"
    ]
    assert [p.split("/")[1] for p in tree if p.startswith("classes/") and p.endswith("class.yaml")] == [
        next(p.split("/")[1] for p in tree if p.startswith("classes/standard-aws-eu-west-1"))
    ]
    code, output = run("build", str(EXAMPLE), "--out-dir", str(out), "--cluster", "nope", "--flux-path", "./out")
    assert code == 2 and "no cluster nope" in output


def test_an_invalid_fleet_builds_nothing(tmp_path: Path) -> None:
    fleet, out = copy_example(tmp_path), tmp_path / "out"
    (fleet / "clusters" / "prod.yaml").write_text(
        (fleet / "clusters" / "prod.yaml").read_text().replace("class: gpu", "class: gpx")
    )
    code, output = run("build", str(fleet), "--out-dir", str(out), "--flux-path", "./out")
    assert code == 1 and "spec.class: no ClusterClass 'gpx' (did you mean 'gpu'?)" in output
    assert not out.exists()


def test_a_killed_build_leaves_the_previous_tree(tmp_path: Path) -> None:
    fleet, out = tmp_path / "big", tmp_path / "out"
    subprocess.run(
        [sys.executable, "-m", "fleetc.testing.synthetic", str(fleet), "800"], check=True, capture_output=True
    )
    command = [sys.executable, "-m", "fleetc", "build", str(fleet), "--out-dir", str(out), "--flux-path", "./out"]
    subprocess.run(command, check=True, capture_output=True)
    before = read_tree(out)
    (fleet / "fleet.yaml").write_text((fleet / "fleet.yaml").read_text().replace("name: synthetic", "name: other", 1))
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".out.fleetc-new-*")) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.001)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert read_tree(out) == before
    subprocess.run(command, check=True, capture_output=True)
    assert read_tree(out) != before and not list(tmp_path.glob(".out.fleetc-*"))
