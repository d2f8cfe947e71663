"""Writing the output tree: atomically, never outside OUT, and checking whether OUT is stale.

The new tree is written into a temporary sibling folder and swapped in with two renames, so a crash or a
kill leaves the previous tree whole (a later run removes the leftovers). OUT must be empty, absent, or a
tree fleetc wrote before (it carries a ``.fleetc-output`` marker): fleetc never replaces a folder it did not
write (:class:`~fleetc.core.errors.OutputError`); a folder the operating system does not let fleetc write raises
:class:`~fleetc.core.errors.TargetWriteError`. Callers: ``fleetc build`` and ``fleetc build --check``.
"""

from __future__ import annotations

import os
import posixpath
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from fleetc.core.errors import OutputError, TargetWriteError

MARKER = ".fleetc-output"
MARKER_TEXT = b"Written by fleetc build; the whole folder is replaced on every build.\n"


@dataclass(frozen=True)
class Staleness:
    """How OUT differs from what a build would write."""

    missing: tuple[str, ...]
    changed: tuple[str, ...]
    extra: tuple[str, ...]

    @property
    def stale(self) -> bool:
        """True when OUT differs at all."""
        return bool(self.missing or self.changed or self.extra)


def _check_paths(files: Mapping[str, bytes]) -> None:
    for path in files:
        normal = posixpath.normpath(path)
        if normal != path or normal.startswith(("../", "/")) or normal in (".", "..") or "\\" in path:
            raise OutputError(f"refusing to write {path!r}: outside the output folder")


def _existing_files(out: Path) -> dict[str, Path]:
    found = {}
    for dirpath, _, filenames in os.walk(out):
        for name in filenames:
            full = Path(dirpath) / name
            found[full.relative_to(out).as_posix()] = full
    return found


def check_stale(files: Mapping[str, bytes], out: Path) -> Staleness:
    """Compare a would-be tree with OUT on disk, without writing."""
    existing = _existing_files(out) if out.is_dir() else {}
    existing.pop(MARKER, None)
    missing = tuple(p for p in files if p not in existing)
    changed = tuple(p for p in files if p in existing and existing[p].read_bytes() != files[p])
    extra = tuple(sorted(p for p in existing if p not in files))
    return Staleness(missing, changed, extra)


def _guard(out: Path, protected: Path | None) -> None:
    resolved = out.resolve()
    if resolved == Path(resolved.anchor) or resolved == Path.home():
        raise OutputError(f"{out}: refusing to use this folder as build output")
    if protected is not None:
        fleet = protected.resolve()
        if resolved == fleet or resolved in fleet.parents:
            raise OutputError(f"{out}: the output folder would hold the fleet itself ({protected})")
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise OutputError(f"{out}: not empty and not written by fleetc (no {MARKER}); refusing to replace it")


def _leftovers(out: Path) -> list[Path]:
    return sorted(out.parent.glob(f".{out.name}.fleetc-*"))


def write_tree(files: Mapping[str, bytes], out: Path, *, protected: Path | None = None) -> None:
    """Replace OUT with exactly ``files``, atomically; ``protected`` (the fleet root) is never overwritten."""
    _check_paths(files)
    recover(out)
    _guard(out, protected)
    for leftover in _leftovers(out):
        shutil.rmtree(leftover, ignore_errors=True)
    if (out / MARKER).is_file() and not check_stale(files, out).stale:
        return  # nothing changed: a rebuild of an unchanged fleet writes nothing
    staging = out.parent / f".{out.name}.fleetc-new-{os.getpid()}"
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        _write_all(files, staging)
        _swap(staging, out)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise TargetWriteError(f"{out}: cannot write the output folder ({exc.strerror or exc})") from exc


def _write_all(files: Mapping[str, bytes], staging: Path) -> None:
    staging.mkdir()
    made: set[str] = set()
    for path, data in files.items():
        folder = path.rpartition("/")[0]
        if folder and folder not in made:
            (staging / folder).mkdir(parents=True, exist_ok=True)
            made.add(folder)
        (staging / path).write_bytes(data)
    (staging / MARKER).write_bytes(MARKER_TEXT)


def _swap(staging: Path, out: Path) -> None:
    retired = out.parent / f".{out.name}.fleetc-old-{os.getpid()}"
    if out.exists():
        out.rename(retired)
    staging.rename(out)
    shutil.rmtree(retired, ignore_errors=True)


def recover(out: Path) -> None:
    """After a kill between the two renames, put the previous tree back."""
    if out.exists():
        return
    old = [p for p in _leftovers(out) if ".fleetc-old-" in p.name]
    if old:
        old[-1].rename(out)
