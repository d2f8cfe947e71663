"""Helpers for compiler tests: the upstream CRDs, building a fleet folder, reading trees."""

from __future__ import annotations

import shutil
from pathlib import Path

from fleetc.load.sources import DiskTree
from fleetc.render.build import Build, build
from fleetc.render.crds import CrdSchemas
from fleetc.render.flux import FluxOptions
from fleetc.schema.model import Fleet
from fleetc.schema.validate import validate_tree
from tests.upstream.reference import reference

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "fleet"
FLUX = FluxOptions(path="./out")


def crd_folders() -> list[Path]:
    """Every upstream CRD folder the project is checked against: CAPI's, the providers', Flux's."""
    return reference().crds()


def all_crds() -> CrdSchemas:
    """Every upstream CRD schema the project is checked against."""
    return CrdSchemas.load(crd_folders())


def load_fleet(root: Path) -> Fleet:
    """A valid fleet from a folder (fails the test when it is not valid)."""
    result = validate_tree(DiskTree.open(root))
    assert result.ok, "\n".join(map(str, result.diagnostics))
    assert result.fleet is not None
    return result.fleet


def build_folder(root: Path) -> Build:
    """The build of a fleet folder."""
    return build(load_fleet(root), flux=FLUX)


def copy_example(destination: Path) -> Path:
    """A private copy of examples/fleet."""
    target = destination / "fleet"
    shutil.copytree(EXAMPLE, target)
    return target


def read_tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` by relative path."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
