"""Discovery: every YAML document of a fleet tree, parsed with positions, plus what could not be read.

A fleet is a folder with ``fleet.yaml`` at its root; every other ``*.yaml``/``*.yml`` file below it (outside
hidden folders and the fleet's ``exclude`` globs) holds one or many fleet documents.

Caller: :func:`fleetc.schema.validate.validate_tree`.
"""

from __future__ import annotations

import contextlib
import fnmatch
import gc
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from fleetc.core.diagnostics import Diagnostic, SourceLocation
from fleetc.core.errors import UnreadableError
from fleetc.load.sources import FLEET_FILE, MAX_FILE_BYTES, Listing, SourceTree, display_path
from fleetc.load.yamlio import YamlDocument, decode, parse_documents


@dataclass(frozen=True)
class LoadedFiles:
    """The parsed documents of some files of a tree and the diagnostics met while reading them."""

    documents: tuple[YamlDocument, ...]
    diagnostics: tuple[Diagnostic, ...]


def read_file(tree: SourceTree, path: str) -> LoadedFiles:
    """Parse one file of a tree: size limit, UTF-8, YAML syntax and node checks."""
    shown = display_path(tree, path)
    try:
        size = tree.size(path)
        if size > MAX_FILE_BYTES:
            message = f"file is {size / 2**20:.1f} MiB, over the {MAX_FILE_BYTES // 2**20} MiB limit; refused unread"
            return LoadedFiles((), (Diagnostic(SourceLocation(shown), "", message),))
        raw = tree.read(path)
    except UnreadableError as exc:
        return LoadedFiles((), (Diagnostic(SourceLocation(shown), "", str(exc)),))
    text, problems = decode(shown, raw)
    if text is None:
        return LoadedFiles((), tuple(problems))
    documents, problems = parse_documents(shown, text)
    return LoadedFiles(tuple(documents), tuple(problems))


def is_excluded(path: str, patterns: Sequence[str]) -> bool:
    """True when a tree path matches an exclude glob (a folder glob excludes what is under it)."""
    return any(fnmatch.fnmatch(path, p) or fnmatch.fnmatch(path, p.rstrip("/") + "/*") for p in patterns)


def fleet_files(listing: Listing, exclude: Sequence[str]) -> tuple[list[str], list[Diagnostic]]:
    """The fleet's document files other than ``fleet.yaml``, and the entries the tree refused."""
    files = [p for p in listing.files if p != FLEET_FILE and not is_excluded(p, exclude)]
    return files, list(listing.problems)


def read_files(tree: SourceTree, paths: Sequence[str]) -> LoadedFiles:
    """Parse many files, keeping every document and every diagnostic."""
    documents: list[YamlDocument] = []
    diagnostics: list[Diagnostic] = []
    for path in paths:
        loaded = read_file(tree, path)
        documents.extend(loaded.documents)
        diagnostics.extend(loaded.diagnostics)
    return LoadedFiles(tuple(documents), tuple(diagnostics))


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Parsing builds millions of acyclic node objects; Python's cycle collector would rescan them again and
    again for nothing (over half the time of a 10,000-cluster validate, measured in bench/)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        # Move what was built to the permanent generation, or the next collections rescan all of it
        # (~2 s in a 10,000-cluster build, measured in bench/build_bench.py).
        gc.freeze()
        if enabled:
            gc.enable()
