"""``fleetc validate --rendered OUT --crds DIR…``: a built tree checked against the user's CRD folders."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from fleetc.cli.main import cli
from tests.render.support import EXAMPLE, crd_folders


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def crd_args() -> list[str]:
    return [arg for folder in crd_folders() for arg in ("--crds", str(folder))]


def test_the_example_build_passes_the_upstream_crds(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run("build", str(EXAMPLE), "--out-dir", str(out), "--flux-path", "./out")[0] == 0
    code, output = run("validate", "--rendered", str(out), *crd_args())
    assert code == 0 and "every object passes its CRD schema" in output


def test_an_unknown_field_in_a_rendered_object_is_located(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run("build", str(EXAMPLE), "--out-dir", str(out), "--flux-path", "./out")[0] == 0
    cluster = out / "clusters" / "eu-prod-1" / "cluster.yaml"
    text = cluster.read_text()
    cluster.write_text(text.replace("  topology:\n", "  topolgy: {}\n  topology:\n", 1))
    code, output = run("validate", "--rendered", str(out), *crd_args())
    line = text.splitlines().index("  topology:") + 1
    assert code == 1
    assert (
        f"{out}/clusters/eu-prod-1/cluster.yaml:{line}:3: spec.topolgy: Cluster eu-prod-1: unknown field 'topolgy'"
        in output
    )


def test_rendered_needs_crd_folders(tmp_path: Path) -> None:
    assert run("validate", "--rendered", str(tmp_path))[0] == 2
