"""Source trees: one read-only view over a folder on disk, a git revision, or files held in memory.

A git revision is just another tree: ``GitTree`` reads blobs straight from git objects with gitpython, so
``fleetc diff main..HEAD`` needs no checkout and no worktree. This is the only module that imports ``git``.

Every tree refuses to hand out anything outside its root: symlinks that leave the root are reported as
problems, never followed. Folders that cannot be listed (permissions, paths longer than the system allows)
are reported as problems too; a file that cannot be read raises :class:`UnreadableError`, which the loader
turns into a diagnostic on that file. A git revision that does not name a commit (``@{-1}`` without a
previous branch, ``HEAD@{99}``, a tree) is a :class:`~fleetc.core.errors.SourceError` naming the revision.
"""

from __future__ import annotations

import errno
import os
import posixpath
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from fleetc.core.diagnostics import Diagnostic, SourceLocation
from fleetc.core.errors import FleetNotFoundError, SourceError, UnreadableError

if TYPE_CHECKING:
    import git

FLEET_FILE = "fleet.yaml"
YAML_SUFFIXES = (".yaml", ".yml")
MAX_FILE_BYTES = 16 * 1024 * 1024
"""Files above this size are refused unread (10,000 clusters in one file is about 4 MB)."""


def os_reason(exc: OSError) -> str:
    """Why an operating-system call failed, in words (``permission denied``)."""
    if exc.errno == errno.ENAMETOOLONG:
        return "path longer than the system allows"
    return (exc.strerror or type(exc).__name__).lower()


@dataclass(frozen=True)
class Listing:
    """The YAML files a tree offers (relative POSIX paths, sorted) and the entries it refused."""

    files: tuple[str, ...]
    problems: tuple[Diagnostic, ...] = ()


class SourceTree(Protocol):
    """A read-only tree of fleet files."""

    @property
    def label(self) -> str:
        """How the tree's root is shown in diagnostics (``examples/fleet``, ``main:fleet``)."""
        ...

    def list_yaml(self) -> Listing:
        """Every YAML file under the root, outside hidden folders."""
        ...

    def size(self, path: str) -> int:
        """Size in bytes of a file listed by :meth:`list_yaml`."""
        ...

    def read(self, path: str) -> bytes:
        """Bytes of a file listed by :meth:`list_yaml`."""
        ...


def display_path(tree: SourceTree, path: str) -> str:
    """The path of a tree file as diagnostics show it (``HEAD:fleet/x.yaml`` names a git object)."""
    return _shown(tree.label, path)


def _shown(label: str, path: str) -> str:
    if label in ("", "."):
        return path
    return f"{label}{path}" if label.endswith(":") else posixpath.join(label, path)


def _is_yaml(name: str) -> bool:
    return name.endswith(YAML_SUFFIXES)


def _is_hidden(name: str) -> bool:
    return name.startswith(".")


def _problem(label: str, path: str, message: str) -> Diagnostic:
    return Diagnostic(SourceLocation(_shown(label, path)), "", message)


@dataclass(frozen=True)
class DiskTree:
    """A folder on disk. Symlinks are followed only while they stay inside the root."""

    root: Path
    label: str = ""

    @classmethod
    def open(cls, root: Path | str) -> DiskTree:
        """Open a folder; ``label`` is the path as the user wrote it."""
        path = Path(root)
        if not path.is_dir():
            raise SourceError(f"{root}: not a folder")
        return cls(path, os.path.normpath(str(root)))

    def list_yaml(self) -> Listing:
        real_root = os.path.realpath(self.root)
        files: list[str] = []
        problems: list[Diagnostic] = []
        pending = [""]
        while pending:
            rel_dir = pending.pop()
            try:
                entries = list(os.scandir(os.path.join(self.root, rel_dir)))
            except OSError as exc:
                problems.append(_problem(self.label, rel_dir or ".", f"folder cannot be read ({os_reason(exc)})"))
                continue
            for entry in entries:
                if _is_hidden(entry.name):
                    continue
                rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
                if entry.is_symlink():
                    problem = self._symlink_problem(entry.path, real_root, rel)
                    if problem:
                        problems.append(problem)
                    elif _is_yaml(entry.name) and entry.is_file():
                        files.append(rel)
                elif entry.is_dir():
                    pending.append(rel)
                elif _is_yaml(entry.name) and entry.is_file():
                    files.append(rel)
        return Listing(tuple(sorted(files)), tuple(sorted(problems)))

    def _symlink_problem(self, path: str, real_root: str, rel: str) -> Diagnostic | None:
        """Links inside the root are fine (folders among them are not followed); others are refused."""
        target = os.readlink(path)
        try:
            resolved = os.path.realpath(path, strict=True)
        except OSError as exc:
            return _problem(self.label, rel, f"symlink to {target} cannot be followed ({exc.strerror or exc}); refused")
        if resolved == real_root or resolved.startswith(real_root.rstrip("/") + "/"):
            return None
        return _problem(self.label, rel, f"symlink points outside the fleet root (to {target}); refused")

    def size(self, path: str) -> int:
        try:
            return (self.root / path).stat().st_size
        except OSError as exc:
            raise UnreadableError(f"file cannot be read ({os_reason(exc)})") from exc

    def read(self, path: str) -> bytes:
        try:
            return (self.root / path).read_bytes()
        except OSError as exc:
            raise UnreadableError(f"file cannot be read ({os_reason(exc)})") from exc


@dataclass(frozen=True)
class MemoryTree:
    """Files held in memory (for tests and for tools that generate specs)."""

    files: dict[str, bytes]
    label: str = "<memory>"

    def list_yaml(self) -> Listing:
        names = (p for p in self.files if _is_yaml(p) and not any(_is_hidden(s) for s in p.split("/")))
        return Listing(tuple(sorted(names)))

    def size(self, path: str) -> int:
        return len(self.files[path])

    def read(self, path: str) -> bytes:
        return self.files[path]


_GIT_SYMLINK_MODE = 0o120000
_NULL_SHA = "0" * 40


@dataclass
class GitTree:
    """A folder of a git revision, read from git objects (no checkout, no worktree)."""

    repo: git.Repo
    revision: str
    subdir: str
    label: str
    _blobs: dict[str, git.Blob] = field(default_factory=dict, repr=False)

    @classmethod
    def open(cls, path: Path | str, revision: str) -> GitTree:
        """Open ``path`` (a folder inside a git work tree) as it is at ``revision``."""
        import git  # imported here: ~80 ms that validating a folder on disk does not need

        try:
            repo = git.Repo(path, search_parent_directories=True)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError) as exc:
            raise SourceError(f"{path}: not inside a git repository") from exc
        try:
            commit = repo.commit(revision)
            if not isinstance(commit, git.Commit):
                raise SourceError(f"{revision}: names a git {commit.type}, not a commit")
            if commit.hexsha == _NULL_SHA:
                raise ValueError("the null revision")
            commit.tree.hexsha  # noqa: B018 - a shallow clone may name a commit whose objects it lacks
        except SourceError:
            raise
        except Exception as exc:  # gitpython raises many types for revisions it cannot resolve (@{-1}, HEAD@{99})
            raise SourceError(f"{revision}: no such git revision here (in a shallow clone, fetch it first)") from exc
        top = Path(repo.working_tree_dir or ".").resolve()
        subdir = Path(path).resolve().relative_to(top).as_posix()
        subdir = "" if subdir == "." else subdir
        return cls(repo, revision, subdir, f"{revision}:{subdir}" if subdir else f"{revision}:")

    def _root_tree(self) -> git.Tree:
        tree = self.repo.commit(self.revision).tree
        try:
            found = tree / self.subdir if self.subdir else tree
        except KeyError as exc:
            raise FleetNotFoundError(f"{self.label}: folder not present at {self.revision}") from exc
        if found.type != "tree":
            what = "a symlink" if found.mode == _GIT_SYMLINK_MODE else "a file"
            raise SourceError(f"{self.label}: {what} at {self.revision}, not a folder; give the folder itself")
        return found

    def list_yaml(self) -> Listing:
        files: list[str] = []
        problems: list[Diagnostic] = []
        root = self._root_tree()
        for blob, rel in _walk_git_tree(root, ""):
            if blob.mode != _GIT_SYMLINK_MODE:
                if _is_yaml(blob.name):
                    self._blobs[rel] = blob
                    files.append(rel)
                continue
            followed = self._follow_link(root, blob, rel)
            if isinstance(followed, str):
                problems.append(_problem(self.label, rel, followed))
            elif followed is not None and _is_yaml(blob.name):
                self._blobs[rel] = followed
                files.append(rel)
        return Listing(tuple(sorted(files)), tuple(sorted(problems)))

    def _follow_link(self, root: git.Tree, link: git.Blob, rel: str) -> git.Blob | str | None:
        """The blob a link inside the root points to, None for a folder, or why it is refused."""
        target = link.data_stream.read().decode("utf-8", "replace")
        joined = posixpath.normpath(posixpath.join(posixpath.dirname(rel), target))
        if posixpath.isabs(target) or joined == ".." or joined.startswith("../"):
            return f"symlink points outside the fleet root (to {target}); refused"
        try:
            obj = root / joined if joined != "." else root
        except KeyError:
            return f"symlink to {target} cannot be followed (no such file in this revision); refused"
        if obj.type != "blob":
            return None
        if obj.mode == _GIT_SYMLINK_MODE:
            return f"symlink to {target} is a chain of links; refused"
        return obj

    def size(self, path: str) -> int:
        try:
            return int(self._blobs[path].size)
        except Exception as exc:  # gitpython: ValueError, GitCommandError… when the object is not here
            raise UnreadableError(_missing_object(exc)) from exc

    def read(self, path: str) -> bytes:
        try:
            data: bytes = self._blobs[path].data_stream.read()
        except Exception as exc:
            raise UnreadableError(_missing_object(exc)) from exc
        return data


def _missing_object(exc: Exception) -> str:
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"git object cannot be read ({first[:200]}); in a partial or shallow clone, fetch it first"


def _walk_git_tree(tree: git.Tree, prefix: str) -> Iterator[tuple[git.Blob, str]]:
    for blob in tree.blobs:
        if not _is_hidden(blob.name):
            yield blob, f"{prefix}{blob.name}"
    for sub in tree.trees:
        if not _is_hidden(sub.name):
            yield from _walk_git_tree(sub, f"{prefix}{sub.name}/")


def find_fleet_root(start: Path) -> Path | None:
    """The nearest folder at or above ``start`` holding ``fleet.yaml``, or None."""
    current = start.resolve()
    if current.is_file():
        current = current.parent
    for candidate in (current, *current.parents):
        if (candidate / FLEET_FILE).is_file():
            return candidate
    return None
