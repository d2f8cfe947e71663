"""An object store with Kubernetes semantics, in process: the embedded management plane's API server.

What it keeps from Kubernetes, because controllers and gates depend on it:
- ``metadata.resourceVersion`` on every write; an update carrying a stale one fails with :class:`Conflict`;
- ``metadata.generation`` bumped when anything but metadata and status changes; status is written only
  through :meth:`MemoryStore.update_status` (the status subresource);
- ``metadata.uid``, ``creationTimestamp``; delete with finalizers sets ``deletionTimestamp`` and the object
  goes when its finalizers are removed; owner references cascade deletes (background garbage collection);
- watches: every write is an :class:`Event` delivered to subscribers, in order.
It can be saved to a JSON file and loaded again, so a later command sees the same state.

:class:`Store` is the protocol every store implements and every controller codes against: the manager
(:mod:`fleetc.runtime.manager`), fleetc's rollout controller (:mod:`fleetc.rollout`) and the simulated CAPI plane
(:mod:`fleetc.sim`). Two implementations: :class:`MemoryStore` here, and the Kubernetes API server store
(:mod:`fleetc.runtime.kube`), whose watch events arrive from other threads and are handed to handlers on the
caller's thread by :meth:`Store.wait`. Server-side apply with field managers (``metadata.managedFields`` as
FieldsV1) is emulated here by :func:`server_side_apply`.
"""

from __future__ import annotations

import builtins
import json
import os
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from fleetc.contract.timestamps import timestamp
from fleetc.core.errors import AlreadyExists, Conflict, NotFound, StoreError
from fleetc.core.keys import Manifest, ObjectKey
from fleetc.runtime.clock import Clock

EventType = Literal["ADDED", "MODIFIED", "DELETED"]
ApplyResult = Literal["created", "updated", "unchanged"]
"""What a server-side apply did to the object."""
FIELD_MANAGER = "fleetc"
"""The field manager fleetc applies as."""
CONFLICT_RETRIES = 5
"""How often :meth:`Store.edit` re-reads and retries after a stale resourceVersion."""
_SPEC_EXEMPT = ("metadata", "status", "apiVersion", "kind")
_IDENTITY = ("apiVersion", "kind")
FieldsV1 = dict[str, Any]


@dataclass(frozen=True)
class Event:
    """A change to one object, as a watch delivers it."""

    type: EventType
    key: ObjectKey
    object: Manifest


Handler = Callable[[Event], None]


class Store(Protocol):
    """What reconcilers may do with objects."""

    def get(self, key: ObjectKey) -> Manifest:
        """A copy of the object; :class:`NotFound` if absent."""
        ...

    def find(self, key: ObjectKey) -> Manifest | None:
        """A copy of the object, or None."""
        ...

    def list(
        self, group: str, kind: str, namespace: str | None = None, labels: dict[str, str] | None = None
    ) -> builtins.list[Manifest]:
        """Copies of the objects of a kind, sorted by namespace and name, optionally filtered."""
        ...

    def create(self, obj: Manifest) -> Manifest:
        """Create; :class:`AlreadyExists` if the key is taken."""
        ...

    def update(self, obj: Manifest) -> Manifest:
        """Replace metadata and spec (status is kept); :class:`Conflict` on a stale resourceVersion."""
        ...

    def update_status(self, obj: Manifest) -> Manifest:
        """Replace status only; :class:`Conflict` on a stale resourceVersion."""
        ...

    def patch(self, key: ObjectKey, merge_patch: Manifest) -> Manifest:
        """Apply a JSON merge patch to metadata and spec."""
        ...

    def replace(self, obj: Manifest) -> None:
        """:meth:`update`, returning nothing (the memory store also skips its copies)."""
        ...

    def replace_status(self, obj: Manifest) -> None:
        """:meth:`update_status`, returning nothing (the memory store also skips its copies)."""
        ...

    def apply(self, obj: Manifest, *, field_manager: str = FIELD_MANAGER, force: bool = False) -> ApplyResult:
        """Server-side apply: ``field_manager`` owns exactly the fields of ``obj`` (status is ignored).

        Raises :class:`fleetc.core.errors.FieldConflict` when another manager owns one of them with another value,
        unless ``force``."""
        ...

    def edit(self, key: ObjectKey, change: Callable[[Manifest], None], *, status: bool = False) -> Manifest:
        """Read, ``change`` (in place), write (the status subresource when ``status``); on a stale resourceVersion
        read again and redo the change, up to :data:`CONFLICT_RETRIES` times."""
        ...

    def delete(self, key: ObjectKey) -> None:
        """Delete (or mark for deletion while finalizers remain); dependents follow."""
        ...

    def watch(self, handler: Handler) -> None:
        """Deliver every later change to ``handler`` (each event carries the handler's own copy)."""
        ...

    def watch_shared(self, handler: Handler) -> None:
        """Like :meth:`watch`, but the event's object is shared and must not be modified (saves a copy)."""
        ...

    def inform(self, group: str, kind: str) -> None:
        """Keep objects of a kind current for reads and deliver their changes to watchers (a no-op in memory,
        where every kind is always current; an API-backed store starts an informer)."""
        ...

    def kinds(self) -> builtins.list[tuple[str, str]]:
        """Every (group, kind) the store holds objects of (memory) or informs (API)."""
        ...

    def wait(self, timeout: float) -> bool:
        """Hand pending watch events to the handlers, first waiting up to ``timeout`` real seconds for one; True
        when any were delivered. The memory store delivers inside each write, so it never has any pending."""
        ...


def copy(value: Any) -> Any:
    """A deep copy of plain data (several times faster than ``copy.deepcopy``)."""
    if isinstance(value, dict):
        return {k: copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [copy(v) for v in value]
    return value


def merge(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch: maps merge, ``None`` deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for name, value in patch.items():
        if value is None:
            result.pop(name, None)
        else:
            result[name] = merge(result.get(name), value)
    return result


def _copied(obj: Manifest) -> Manifest:
    result: Manifest = copy(obj)
    return result


def _spec_part(obj: Manifest) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k not in _SPEC_EXEMPT}


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

    def kinds(self) -> builtins.list[tuple[str, str]]:
        """Every (group, kind) that has objects."""
        return sorted(k for k, v in self._objects.items() if v)

    def __len__(self) -> int:
        return sum(len(v) for v in self._objects.values())

    # writing

    def create(self, obj: Manifest) -> Manifest:
        key = ObjectKey.of(obj)
        bucket = self._objects[(key.group, key.kind)]
        if (key.namespace, key.name) in bucket:
            raise AlreadyExists(f"{key} already exists")
        stored: Manifest = copy(obj)
        metadata = stored["metadata"]
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
        return _copied(stored)

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
        return _copied(self._replace(key, current, stored))

    def update_status(self, obj: Manifest) -> Manifest:
        key, current = self._current_for_write(obj)
        # Stored objects are never changed in place, so the new version may share all but metadata and status.
        stored = {**current, "metadata": dict(current["metadata"]), "status": copy(obj.get("status", {}))}
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
                stored = copy(current)
                stored["metadata"]["deletionTimestamp"] = timestamp(self._clock.now())
                self._replace(key, current, stored)
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
            created["metadata"]["managedFields"] = [_apply_entry(field_manager, applied)]
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
        self._unindex_owners(key, current)
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
            shared = Event(kind, key, obj)
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


def edit_with_retries(
    store: Store, key: ObjectKey, change: Callable[[Manifest], None], *, status: bool = False
) -> Manifest:
    """:meth:`Store.edit` over ``get`` and ``update``/``update_status``: a stale read is re-read and changed again."""
    for attempt in range(CONFLICT_RETRIES):
        obj = store.get(key)
        change(obj)
        try:
            return store.update_status(obj) if status else store.update(obj)
        except Conflict:
            if attempt == CONFLICT_RETRIES - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def server_side_apply(current: Manifest, applied: Manifest, field_manager: str) -> Manifest:
    """``applied`` applied over ``current`` by ``field_manager``: the manager owns exactly the fields it applied
    (recorded in ``metadata.managedFields`` as FieldsV1, as Kubernetes does); fields it applied before but not now are
    removed; fields other managers set are kept. Lists are replaced whole (atomic); ``status`` is ignored."""
    result: Manifest = copy(current)
    entries = result["metadata"].get("managedFields", [])
    previous: FieldsV1 = next((e.get("fieldsV1", {}) for e in entries if e.get("manager") == field_manager), {})
    _remove_fields(result, previous, _owned(applied))
    _merge_into(result, {k: v for k, v in applied.items() if k not in ("metadata", "status")})
    metadata = {k: v for k, v in applied["metadata"].items() if k not in ("managedFields", "resourceVersion")}
    _merge_into(result.setdefault("metadata", {}), metadata)
    others = [e for e in entries if e.get("manager") != field_manager]
    result["metadata"]["managedFields"] = [*others, _apply_entry(field_manager, applied)]
    return result


def fields_of(value: Any) -> FieldsV1:
    """The FieldsV1 set of an applied configuration (maps are walked, lists and scalars are leaves)."""
    if not isinstance(value, dict) or not value:
        return {}
    return {f"f:{k}": fields_of(v) for k, v in value.items()}


def _owned(manifest: Manifest) -> FieldsV1:
    trimmed = {k: v for k, v in manifest.items() if k not in _IDENTITY}
    metadata = {k: v for k, v in trimmed.get("metadata", {}).items() if k not in ("name", "namespace", "managedFields")}
    return fields_of({**trimmed, "metadata": metadata})


def _apply_entry(field_manager: str, manifest: Manifest) -> Manifest:
    return {
        "apiVersion": manifest["apiVersion"],
        "fieldsType": "FieldsV1",
        "fieldsV1": _owned(manifest),
        "manager": field_manager,
        "operation": "Apply",
    }


def _remove_fields(target: dict[str, Any], before: FieldsV1, now: FieldsV1) -> None:
    """Remove fields the manager owned before and no longer applies."""
    for field, children in before.items():
        name = field.removeprefix("f:")
        if name not in target:
            continue
        if field not in now:
            del target[name]
        elif children and isinstance(target[name], dict):
            _remove_fields(target[name], children, now[field])


def _merge_into(target: dict[str, Any], patch: dict[str, Any]) -> None:
    for name, value in patch.items():
        if isinstance(value, dict) and isinstance(target.get(name), dict):
            _merge_into(target[name], value)
        else:
            target[name] = copy(value)


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
