"""Writing the output tree: atomically, one build at a time, never outside OUT, and checking whether OUT is stale.

The new tree is written into a hidden staging sibling (``.OUT.fleetc-new-PID``) and swapped in. On Linux the
swap is one ``renameat2(RENAME_EXCHANGE)``, so OUT holds the old or the new tree at every instant, even under
SIGKILL; elsewhere (or on a file system without it) it is two renames, and a kill between them leaves the old
tree at ``.OUT.fleetc-old-PID``, which the next build puts back before anything else. OUT must be empty, absent,
or a tree fleetc wrote before (it carries a ``.fleetc-output`` marker): fleetc never replaces a folder it did
not write, nor one inside the fleet it builds.

Concurrent builds: a build holds an exclusive lock on OUT's parent folder (``flock``) from recovery to swap, so
a second build into the same place waits for the first (up to :data:`LOCK_WAIT_SECONDS`, then fails clearly).
Leftovers are recognised by their exact name, never by a glob (OUT may be called ``*``), and those named after
a process that is still alive are left alone.

OUT may be a symlink: it is followed, the link is kept, and the folder it points to is what gets replaced.

A folder fleetc may not replace is a :class:`~fleetc.core.errors.OutputError` (exit 2); every operating-system
failure (an unwritable parent, ``/proc``, a name too long) is a :class:`~fleetc.core.errors.TargetWriteError`
naming OUT (exit 4). Callers: ``fleetc build`` and ``fleetc build --check``.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import posixpath
import re
import shutil
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from fleetc.core.errors import OutputError, TargetWriteError

MARKER = ".fleetc-output"
MARKER_TEXT = b"Written by fleetc build; the whole folder is replaced on every build.\n"
LOCK_WAIT_SECONDS = 120.0
"""How long a build waits for another build writing next to the same OUT."""
_LOCK_POLL_SECONDS = 0.05
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


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


def _guard_place(out: Path, protected: Path | None) -> None:
    resolved = out.resolve()
    if resolved == Path(resolved.anchor) or resolved == Path.home():
        raise OutputError(f"{out}: refusing to use this folder as build output")
    if protected is not None:
        fleet = protected.resolve()
        if resolved == fleet or resolved in fleet.parents:
            raise OutputError(f"{out}: the output folder would hold the fleet itself ({protected})")
        if fleet in resolved.parents:
            raise OutputError(f"{out}: the output folder is inside the fleet ({protected}); build outside it")


def _guard_content(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise OutputError(f"{out}: not empty and not written by fleetc (no {MARKER}); refusing to replace it")


def _followed(out: Path) -> Path:
    """OUT, or the folder a symlink OUT points to (the link itself is kept)."""
    return Path(os.path.realpath(out)) if out.is_symlink() else out


def _leftover_name(out: Path, kind: str, pid: int) -> Path:
    return out.parent / f".{out.name}.fleetc-{kind}-{pid}"


def _leftovers(out: Path) -> list[tuple[Path, str, int]]:
    """Staging and retired folders of OUT, matched by exact name: ``(path, 'new' | 'old', pid)``."""
    pattern = re.compile(re.escape(f".{out.name}.fleetc-") + r"(new|old)-([0-9]{1,10})")
    found = []
    with os.scandir(out.parent) as entries:
        for entry in entries:
            match = pattern.fullmatch(entry.name)
            if match and entry.is_dir(follow_symlinks=False):
                found.append((Path(entry.path), match.group(1), int(match.group(2))))
    return sorted(found)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # our own leftover, from an earlier build in this process that was interrupted
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def write_tree(files: Mapping[str, bytes], out: Path, *, protected: Path | None = None) -> None:
    """Replace OUT with exactly ``files``, atomically; ``protected`` (the fleet root) is never written into."""
    _check_paths(files)
    try:
        target = _followed(out)
        _guard_place(target, protected)
        target.parent.mkdir(parents=True, exist_ok=True)
        with _locked(target.parent, shown=out):
            recover(target)
            _guard_content(target)
            for leftover, _, pid in _leftovers(target):
                if not _alive(pid):
                    shutil.rmtree(leftover)
            if (target / MARKER).is_file() and not check_stale(files, target).stale:
                return  # nothing changed: a rebuild of an unchanged fleet writes nothing
            staging = _leftover_name(target, "new", os.getpid())
            _write_all(files, staging)
            _swap(staging, target)
    except OSError as exc:
        reason = "path longer than the system allows" if exc.errno == errno.ENAMETOOLONG else exc.strerror or exc
        raise TargetWriteError(f"{out}: cannot write the output folder ({str(reason).lower()})") from exc


@contextlib.contextmanager
def _locked(folder: Path, *, shown: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``folder`` (waits for another build; no lock file is left behind)."""
    try:
        import fcntl
    except ImportError:  # no flock on this platform: builds are not serialised
        yield
        return
    descriptor = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise OutputError(
                        f"{shown}: another fleetc build has been writing next to it for over "
                        f"{LOCK_WAIT_SECONDS:.0f} s; try again when it is done"
                    ) from None
                time.sleep(_LOCK_POLL_SECONDS)
        yield
    finally:
        os.close(descriptor)


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
    if not out.exists():
        staging.rename(out)  # nothing to replace: one atomic rename
        return
    if _exchange(staging, out):
        shutil.rmtree(staging)  # it now holds the previous tree
        return
    retired = _leftover_name(out, "old", os.getpid())
    out.rename(retired)
    staging.rename(out)  # a kill before this line is undone by recover() at the next build
    shutil.rmtree(retired)


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths in one atomic step (Linux ``renameat2``); False where the system cannot."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except AttributeError:  # a C library without renameat2 (glibc < 2.28, musl)
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    renameat2.restype = ctypes.c_int
    if renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False  # the file system does not support the exchange
    raise OSError(code, os.strerror(code), str(second))


def recover(out: Path) -> None:
    """After a kill between the two renames of a swap, put the previous tree back."""
    if out.exists() or not out.parent.is_dir():
        return
    old = [path for path, kind, _ in _leftovers(out) if kind == "old"]
    if old:
        old[-1].rename(out)
