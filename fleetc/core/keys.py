"""Object identity: ``ObjectKey`` (group, kind, namespace, name) and the raw manifest type.

Identity is a value: rendered sets are mappings keyed by it, diffs match objects by it, and sorting by it
gives byte-stable output.
"""

from __future__ import annotations

from typing import Any, NamedTuple

Manifest = dict[str, Any]

_new_tuple = tuple.__new__
"""Makes a named tuple from its fields without the Python-level ``__new__`` a ``NamedTuple`` class call runs (keys
are made on every watch event and cache read)."""
"""A Kubernetes object as plain data (apiVersion, kind, metadata, spec…)."""


class ObjectKey(NamedTuple):
    """Who an object is, independent of its content and API version.

    A named tuple: keys are hashed and compared millions of times in a simulation (work queues, caches, indexes),
    and a tuple's hash and equality run in C where a frozen dataclass's run Python code. Order and hash are the
    tuple's (group, kind, namespace, name), as the dataclass's were."""

    group: str
    kind: str
    namespace: str
    name: str

    @classmethod
    def of(cls, manifest: Manifest) -> ObjectKey:
        """The key of a manifest."""
        api_version: str = manifest["apiVersion"]
        group = api_version.rpartition("/")[0]
        metadata = manifest.get("metadata", {})
        return _new_tuple(cls, (group, manifest["kind"], metadata.get("namespace", ""), metadata["name"]))

    def __str__(self) -> str:
        kind = f"{self.kind}.{self.group}" if self.group else self.kind
        return f"{kind} {self.namespace}/{self.name}" if self.namespace else f"{kind} {self.name}"
