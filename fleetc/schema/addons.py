"""Add-on files: read once at validation, each checked so that what CAPI applies later can be applied.

A ClusterClass or Provider lists add-ons (``spec.addons``), each a list of YAML files under the fleet root.
Every file must exist, parse, and hold only Kubernetes objects (``apiVersion``, ``kind``, ``metadata.name``);
the files of one add-on become one ConfigMap, which Kubernetes caps at 1 MiB. An add-on name is unique per
class or provider. Errors point at the file's entry in ``spec.addons[i].files``.

Caller: :func:`fleetc.schema.validate.validate_tree`, which keeps the texts on the :class:`~fleetc.schema.model.Fleet`
for :mod:`fleetc.render.addons`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

from fleetc.core.diagnostics import Diagnostic
from fleetc.load.sources import SourceTree
from fleetc.schema.base import Addon
from fleetc.schema.model import Entry

CONFIGMAP_LIMIT = 1024 * 1024
"""A ConfigMap's data may not exceed 1 MiB."""


@dataclass
class AddonFiles:
    """The texts read so far and the problems found."""

    texts: dict[str, str] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)


def _problem(text: str) -> str | None:
    try:
        documents = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        return f"does not parse as YAML ({str(exc).splitlines()[0]})"
    for index, document in enumerate(documents):
        if not _is_object(document):
            return f"document {index + 1} is not a Kubernetes object (apiVersion, kind and metadata.name)"
    return None if documents else "holds no Kubernetes object"


def _is_object(document: Any) -> bool:
    if not isinstance(document, dict):
        return False
    metadata = document.get("metadata")
    return (
        isinstance(document.get("apiVersion"), str)
        and isinstance(document.get("kind"), str)
        and isinstance(metadata, dict)
        and isinstance(metadata.get("name"), str)
    )


def _check_addon(
    tree: SourceTree, listed: frozenset[str], addon: Addon, entry: Entry[Any], field_path: tuple[str | int, ...]
) -> Iterator[Diagnostic]:
    total = 0
    for index, path in enumerate(addon.files):
        where = (*field_path, "files", index)
        if path not in listed:
            yield entry.origin.diagnostic(where, f"no YAML file '{path}' under the fleet root")
            continue
        try:
            text = tree.read(path).decode()
        except UnicodeDecodeError:
            yield entry.origin.diagnostic(where, f"'{path}' is not UTF-8 text")
            continue
        total += len(text.encode())
        problem = _problem(text)
        if problem:
            yield entry.origin.diagnostic(where, f"'{path}' {problem}")
    if total > CONFIGMAP_LIMIT:
        message = f"add-on {addon.name} has {total:,} bytes of files; its ConfigMap holds at most 1 MiB: split it"
        yield entry.origin.diagnostic((*field_path, "files"), message)


def read_addons(
    tree: SourceTree, listed: Iterable[str], owners: Iterable[tuple[Entry[Any], list[Addon]]]
) -> AddonFiles:
    """Read and check the add-on files of every owner (a class or provider entry and its add-ons)."""
    result, files = AddonFiles(), frozenset(listed)
    for entry, addons in owners:
        seen: set[str] = set()
        for index, addon in enumerate(addons):
            field_path: tuple[str | int, ...] = ("spec", "addons", index)
            if addon.name in seen:
                result.diagnostics.append(
                    entry.origin.diagnostic((*field_path, "name"), f"add-on '{addon.name}' is listed twice")
                )
            seen.add(addon.name)
            result.diagnostics.extend(_check_addon(tree, files, addon, entry, field_path))
            for path in addon.files:
                if path in files and path not in result.texts:
                    try:
                        result.texts[path] = tree.read(path).decode()
                    except UnicodeDecodeError:
                        continue
    return result
