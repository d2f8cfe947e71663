"""An object store with Kubernetes semantics, in process: the embedded management plane's API server.

What it keeps from Kubernetes, because controllers and gates depend on it:
- ``metadata.resourceVersion`` on every write; an update carrying a stale one fails with
  :class:`~fleetc.core.errors.Conflict`;
- ``metadata.generation`` bumped when anything but metadata and status changes; status is written only
  through :meth:`MemoryStore.update_status` (the status subresource);
- ``metadata.uid``, ``creationTimestamp``; delete with finalizers sets ``deletionTimestamp`` and the object
  goes when its finalizers are removed; owner references cascade deletes (background garbage collection);
- watches: every write is an :class:`~fleetc.runtime.store.Event` delivered to subscribers, in order;
- server-side apply with field managers, emulated by :func:`fleetc.runtime.ssa.server_side_apply`.
It can be saved to a JSON file and loaded again (:func:`save_state`, :func:`load_state`), so a later command sees
the same state. Callers: :mod:`fleetc.engine.local` and the tests.
"""

from __future__ import annotations

import builtins
import json
import os
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from fleetc.contract.timestamps import timestamp
from fleetc.core.errors import AlreadyExists, Conflict, NotFound, StoreError
from fleetc.core.keys import Manifest, ObjectKey
from fleetc.runtime.clock import Clock
from fleetc.runtime.informer import Compactor
from fleetc.runtime.ssa import apply_entry, server_side_apply
from fleetc.runtime.store import FIELD_MANAGER, ApplyResult, Event, EventType, Handler, copy, edit_with_retries, merge

_SPEC_EXEMPT = ("metadata", "status", "apiVersion", "kind")
_new_event = tuple.__new__
"""Makes an :class:`Event` without the Python-level ``__new__`` of a ``NamedTuple`` class call (one per write)."""


def _copied(obj: Manifest) -> Manifest:
    result: Manifest = copy(obj)
    return result


def _spec_part(obj: Manifest) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k not in _SPEC_EXEMPT}


def _unchanged(stored: Manifest, current: Manifest) -> bool:
    """A write would store what is stored already (``resourceVersion`` aside): like the API server, the store then
    writes nothing, bumps no resourceVersion and sends no watch event."""
    if {k: v for k, v in stored.items() if k != "metadata"} != {k: v for k, v in current.items() if k != "metadata"}:
        return False
    return _without_version(stored["metadata"]) == _without_version(current["metadata"])


def _without_version(metadata: Manifest) -> Manifest:
    return {k: v for k, v in metadata.items() if k != "resourceVersion"}


class MemoryStore:
    """The embedded store. Single-threaded: the runtime drives it from one loop."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._objects: dict[tuple[str, str], dict[tuple[str, str], Manifest]] = defaultdict(dict)
        self._dependents: dict[str, set[ObjectKey]] = defaultdict(set)
        self._uids: dict[str, ObjectKey] = {}
        self._handlers: list[Handler] = []
        self._shared_handlers: list[Handler] = []
        self._version = 0
        self._serial = 0
        self._compact = Compactor()

    # reading

    def find(self, key: ObjectKey) -> Manifest | None:
        found = self._objects[(key.group, key.kind)].get((key.namespace, key.name))
        return _copied(found) if found is not None else None

    def get(self, key: ObjectKey) -> Manifest:
        found = self.find(key)
        if found is None:
            raise NotFound(f"{key} not found")
        return found

    def list(
        self, group: str, kind: str, namespace: str | None = None, labels: dict[str, str] | None = None
    ) -> builtins.list[Manifest]:
        items = self._objects[(group, kind)]
        result = []
        for (ns, _), obj in sorted(items.items()):
            if namespace is not None and ns != namespace:
                continue
            if labels and any(obj["metadata"].get("labels", {}).get(k) != v for k, v in labels.items()):
                continue
            result.append(copy(obj))
        return result

    def list_shared(self, group: str, kind: str) -> builtins.list[Manifest]:
        """The stored objects of a kind, sorted, not copied (see :meth:`watch_shared` for why they stay valid)."""
        return [obj for _, obj in sorted(self._objects[(group, kind)].items())]

    def kinds(self) -> builtins.list[tuple[str, str]]:
        """Every (group, kind) that has objects."""
        return sorted(k for k, v in self._objects.items() if v)

    def __len__(self) -> int:
        return sum(len(v) for v in self._objects.values())

    # writing

    def create(self, obj: Manifest) -> Manifest:
        return _copied(self._create(obj))

    def add(self, obj: Manifest) -> None:
        self._create(obj)

    def _create(self, obj: Manifest) -> Manifest:
        """Store a new object (the stored object itself is returned: callers hand out copies)."""
        key = ObjectKey.of(obj)
        bucket = self._objects[(key.group, key.kind)]
        if (key.namespace, key.name) in bucket:
            raise AlreadyExists(f"{key} already exists")
        stored: Manifest = self._compact(obj)  # a copy sharing equal parts with objects created before it
        metadata = stored["metadata"] = dict(stored["metadata"])  # its own: the parts below may be shared
        self._serial += 1
        metadata["uid"] = f"{self._serial:08d}-{key.kind.lower()}"
        metadata["generation"] = 1
        metadata["creationTimestamp"] = timestamp(self._clock.now())
        metadata.pop("deletionTimestamp", None)
        self._stamp(stored)
        bucket[(key.namespace, key.name)] = stored
        self._uids[metadata["uid"]] = key
        self._index_owners(key, stored)
        self._emit("ADDED", key, stored)
        return stored

    def update(self, obj: Manifest) -> Manifest:
        key, current = self._current_for_write(obj)
        stored = copy(obj)
        stored.pop("status", None)
        if "status" in current:
            stored["status"] = current["status"]
        for immutable in ("uid", "creationTimestamp", "deletionTimestamp"):
            if immutable in current["metadata"]:
                stored["metadata"][immutable] = current["metadata"][immutable]
        generation = current["metadata"]["generation"]
        stored["metadata"]["generation"] = generation + (_spec_part(stored) != _spec_part(current))
        if _unchanged(stored, current):
            return _copied(current)
        return _copied(self._replace(key, current, stored))

    def update_status(self, obj: Manifest) -> Manifest:
        key, current = self._current_for_write(obj)
        # Stored objects are never changed in place, so the new version may share all but metadata and status.
        stored = {**current, "metadata": dict(current["metadata"]), "status": copy(obj.get("status", {}))}
        if _unchanged(stored, current):
            return _copied(current)
        return _copied(self._replace(key, current, stored))

    def replace(self, obj: Manifest) -> None:
        """:meth:`update` without copies, for writers that build each new version from a stored one: the store
        keeps the parts of ``obj`` (the caller must not modify them afterwards) and returns nothing."""
        key, current = self._current_for_write(obj)
        stored = {k: v for k, v in obj.items() if k != "status"}
        stored["metadata"] = metadata = dict(obj["metadata"])
        if "status" in current:
            stored["status"] = current["status"]
        for immutable in ("uid", "creationTimestamp", "deletionTimestamp"):
            if immutable in current["metadata"]:
                metadata[immutable] = current["metadata"][immutable]
        metadata["generation"] = current["metadata"]["generation"] + (_spec_part(stored) != _spec_part(current))
        self._replace(key, current, stored)

    def replace_status(self, obj: Manifest) -> None:
        """:meth:`update_status` without copies, for writers that build a new status for every write: the store
        keeps ``obj["status"]`` itself (the caller must not modify it afterwards) and returns nothing."""
        key, current = self._current_for_write(obj)
        self._replace(key, current, {**current, "metadata": dict(current["metadata"]), "status": obj.get("status", {})})

    def patch(self, key: ObjectKey, merge_patch: Manifest) -> Manifest:
        """Apply a JSON merge patch (RFC 7386) to metadata and spec; ``null`` removes a field."""
        current = self.get(key)
        patched = merge(current, {k: v for k, v in merge_patch.items() if k != "status"})
        patched["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
        return self.update(patched)

    def delete(self, key: ObjectKey) -> None:
        current = self._objects[(key.group, key.kind)].get((key.namespace, key.name))
        if current is None:
            raise NotFound(f"{key} not found")
        if current["metadata"].get("finalizers"):
            if "deletionTimestamp" not in current["metadata"]:
                metadata = {**current["metadata"], "deletionTimestamp": timestamp(self._clock.now())}
                self._replace(key, current, {**current, "metadata": metadata})  # stored objects are never edited
            return
        self._remove(key, current)

    def apply(self, obj: Manifest, *, field_manager: str = FIELD_MANAGER, force: bool = False) -> ApplyResult:
        """Server-side apply as :func:`server_side_apply` computes it. Only appliers are recorded in
        ``managedFields`` here (writers through :meth:`update` are not), so this store reports no conflicts and
        ``force`` changes nothing."""
        applied = {k: v for k, v in obj.items() if k != "status"}
        current = self.find(ObjectKey.of(obj))
        if current is None:
            created = copy(applied)
            created["metadata"]["managedFields"] = [apply_entry(field_manager, applied)]
            self.create(created)
            return "created"
        result = server_side_apply(current, applied, field_manager)
        if result == current:
            return "unchanged"
        self.update(result)
        return "updated"

    def edit(self, key: ObjectKey, change: Callable[[Manifest], None], *, status: bool = False) -> Manifest:
        return edit_with_retries(self, key, change, status=status)

    def watch(self, handler: Handler) -> None:
        self._handlers.append(handler)

    def inform(self, group: str, kind: str) -> None:
        """Nothing to do: every kind is always current."""

    def wait(self, timeout: float) -> bool:
        """Nothing is ever pending (events are delivered inside each write) and nothing comes from outside."""
        return False

    def watch_shared(self, handler: Handler) -> None:
        """Like :meth:`watch`, but the event carries the stored object itself, not a copy: the handler must not
        modify it. Stored objects are never changed in place (every write stores a new version), so the object
        stays valid; this saves a deep copy per write for read-only handlers (the manager, informer caches)."""
        self._shared_handlers.append(handler)

    def unwatch_shared(self, handler: Handler) -> None:
        """Stop delivering events to a handler given to :meth:`watch_shared` (one that lives shorter than the
        store: every handler is called on every write)."""
        self._shared_handlers.remove(handler)

    # internals

    def _current_for_write(self, obj: Manifest) -> tuple[ObjectKey, Manifest]:
        key = ObjectKey.of(obj)
        current = self._objects[(key.group, key.kind)].get((key.namespace, key.name))
        if current is None:
            raise NotFound(f"{key} not found")
        wanted = obj["metadata"].get("resourceVersion")
        if wanted is not None and wanted != current["metadata"]["resourceVersion"]:
            raise Conflict(f"{key} was modified (resourceVersion {wanted} is stale)")
        return key, current

    def _replace(self, key: ObjectKey, current: Manifest, stored: Manifest) -> Manifest:
        """Store a new version (the stored object itself is returned: callers hand out copies)."""
        self._stamp(stored)
        self._objects[(key.group, key.kind)][(key.namespace, key.name)] = stored
        if stored["metadata"].get("ownerReferences") is not current["metadata"].get("ownerReferences"):
            self._unindex_owners(key, current)  # a status write keeps the same list: nothing to re-index
            self._index_owners(key, stored)
        self._emit("MODIFIED", key, stored)
        if "deletionTimestamp" in stored["metadata"] and not stored["metadata"].get("finalizers"):
            self._remove(key, stored)
        return stored

    def _remove(self, key: ObjectKey, current: Manifest) -> None:
        del self._objects[(key.group, key.kind)][(key.namespace, key.name)]
        uid = current["metadata"]["uid"]
        self._uids.pop(uid, None)
        self._unindex_owners(key, current)
        self._emit("DELETED", key, current)
        for dependent in sorted(self._dependents.pop(uid, set())):
            if self._objects[(dependent.group, dependent.kind)].get((dependent.namespace, dependent.name)):
                self.delete(dependent)

    def _stamp(self, stored: Manifest) -> None:
        self._version += 1
        stored["metadata"]["resourceVersion"] = str(self._version)

    def _index_owners(self, key: ObjectKey, obj: Manifest) -> None:
        for ref in obj["metadata"].get("ownerReferences", []):
            self._dependents[ref["uid"]].add(key)

    def _unindex_owners(self, key: ObjectKey, obj: Manifest) -> None:
        for ref in obj["metadata"].get("ownerReferences", []):
            self._dependents[ref["uid"]].discard(key)

    def _emit(self, kind: EventType, key: ObjectKey, obj: Manifest) -> None:
        if self._shared_handlers:
            shared = _new_event(Event, (kind, key, obj))
            for handler in self._shared_handlers:
                handler(shared)
        if self._handlers:
            event = Event(kind, key, copy(obj))
            for handler in self._handlers:
                handler(event)

    # persistence

    def snapshot(self) -> dict[str, Any]:
        """Everything needed to restore the store, as plain data."""
        objects = [obj for bucket in self._objects.values() for _, obj in sorted(bucket.items())]
        return {"version": self._version, "serial": self._serial, "objects": objects}

    def restore(self, snapshot: dict[str, Any]) -> None:
        """Replace the contents with a snapshot (no events are emitted)."""
        self._objects.clear()
        self._dependents.clear()
        self._uids.clear()
        for obj in snapshot["objects"]:
            key = ObjectKey.of(obj)
            self._objects[(key.group, key.kind)][(key.namespace, key.name)] = copy(obj)
            self._uids[obj["metadata"]["uid"]] = key
            self._index_owners(key, obj)
        self._version, self._serial = int(snapshot["version"]), int(snapshot["serial"])

    def keys(self) -> Iterable[ObjectKey]:
        """Every key, sorted."""
        for (group, kind), bucket in sorted(self._objects.items()):
            for namespace, name in sorted(bucket):
                yield ObjectKey(group, kind, namespace, name)


def save_state(path: Path, payload: dict[str, Any]) -> None:
    """Write a state file atomically (temp file, then rename)."""
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    temporary.write_text(json.dumps(payload, sort_keys=True, separators=(",", ":")))
    temporary.replace(path)


def load_state(path: Path) -> dict[str, Any] | None:
    """A state file's payload, or None when there is none yet."""
    if not path.exists():
        return None
    try:
        payload: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise StoreError(f"{path}: not a fleetc state file ({exc})") from exc
    return payload
