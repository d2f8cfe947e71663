"""Writing the output tree: exact content, atomic replacement, refusal to touch what fleetc did not write."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleetc.core.errors import OutputError
from fleetc.render import output
from fleetc.render.output import MARKER, check_stale, recover, write_tree


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


FILES = {"kustomization.yaml": b"root\n", "clusters/a/cluster.yaml": b"a\n", "clusters/b/cluster.yaml": b"b\n"}


def test_writes_exactly_the_files_and_a_marker(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_tree(FILES, out)
    assert tree(out) == {**FILES, MARKER: output.MARKER_TEXT}


def test_a_rebuild_removes_files_no_longer_rendered(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_tree(FILES, out)
    write_tree({"kustomization.yaml": b"root\n"}, out)
    assert set(tree(out)) == {"kustomization.yaml", MARKER}


def test_refuses_a_folder_it_did_not_write(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "precious.txt").write_text("keep me")
    with pytest.raises(OutputError, match="not written by fleetc"):
        write_tree(FILES, out)
    assert (out / "precious.txt").read_text() == "keep me"


def test_refuses_to_write_over_the_fleet(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="would hold the fleet"):
        write_tree(FILES, tmp_path, protected=tmp_path / "fleet")


@pytest.mark.parametrize("path", ["../escape.yaml", "/abs.yaml", "a/../../b.yaml", "a//b.yaml", ".."])
def test_refuses_paths_leaving_the_output(tmp_path: Path, path: str) -> None:
    with pytest.raises(OutputError, match="outside the output folder"):
        write_tree({path: b"x"}, tmp_path / "out")
    assert not (tmp_path / "escape.yaml").exists()


def test_a_crash_while_writing_leaves_the_previous_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    write_tree(FILES, out)
    before = tree(out)
    written = 0
    real_write = Path.write_bytes

    def crash_after_two(self: Path, data: bytes) -> int:
        nonlocal written
        written += 1
        if written > 2:
            raise KeyboardInterrupt("killed")
        return real_write(self, data)

    monkeypatch.setattr(Path, "write_bytes", crash_after_two)
    with pytest.raises(KeyboardInterrupt):
        write_tree({**FILES, "clusters/c/cluster.yaml": b"c\n"}, out)
    monkeypatch.undo()
    assert tree(out) == before
    write_tree(FILES, out)
    assert not list(tmp_path.glob(".out.fleetc-*")), "the next build removes what the crash left behind"


def test_a_kill_between_the_renames_is_recovered(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_tree(FILES, out)
    out.rename(tmp_path / ".out.fleetc-old-123")
    recover(out)
    assert tree(out)["clusters/a/cluster.yaml"] == b"a\n"


def test_check_reports_missing_changed_and_extra_files(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_tree(FILES, out)
    wanted = {"kustomization.yaml": b"changed\n", "clusters/a/cluster.yaml": b"a\n", "clusters/c/cluster.yaml": b"c\n"}
    staleness = check_stale(wanted, out)
    assert staleness.missing == ("clusters/c/cluster.yaml",)
    assert staleness.changed == ("kustomization.yaml",)
    assert staleness.extra == ("clusters/b/cluster.yaml",)
    assert not check_stale(FILES, out).stale


def test_an_unchanged_rebuild_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_tree(FILES, out)
    inode = (out / "kustomization.yaml").stat().st_ino
    write_tree(FILES, out)
    assert (out / "kustomization.yaml").stat().st_ino == inode
