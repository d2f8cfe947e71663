"""The store protocol every controller of fleetc codes against, and the helpers every store shares.

:class:`Store` is what the manager (:mod:`fleetc.runtime.manager`), fleetc's rollout controller (:mod:`fleetc.rollout`)
and the simulated CAPI plane (:mod:`fleetc.sim`) use. Two implementations: the in-process
:class:`~fleetc.runtime.memory.MemoryStore` (the embedded management plane's API server) and the Kubernetes API
server store (:mod:`fleetc.runtime.kube`), whose watch events arrive from other threads and are handed to handlers
on the caller's thread by :meth:`Store.wait`.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Any, Literal, NamedTuple, Protocol

from fleetc.core.errors import Conflict
from fleetc.core.keys import Manifest, ObjectKey

EventType = Literal["ADDED", "MODIFIED", "DELETED"]
ApplyResult = Literal["created", "updated", "unchanged"]
"""What a server-side apply did to the object."""
FIELD_MANAGER = "fleetc"
"""The field manager fleetc applies as."""
CONFLICT_RETRIES = 5
"""How often :meth:`Store.edit` re-reads and retries after a stale resourceVersion."""


class Event(NamedTuple):
    """A change to one object, as a watch delivers it (a named tuple: one is made per write)."""

    type: EventType
    key: ObjectKey
    object: Manifest


Handler = Callable[[Event], None]


class Store(Protocol):
    """What reconcilers may do with objects."""

    def get(self, key: ObjectKey) -> Manifest:
        """A copy of the object; :class:`~fleetc.core.errors.NotFound` if absent."""
        ...

    def find(self, key: ObjectKey) -> Manifest | None:
        """A copy of the object, or None."""
        ...

    def list(
        self, group: str, kind: str, namespace: str | None = None, labels: dict[str, str] | None = None
    ) -> builtins.list[Manifest]:
        """Copies of the objects of a kind, sorted by namespace and name, optionally filtered."""
        ...

    def list_shared(self, group: str, kind: str) -> builtins.list[Manifest]:
        """Like :meth:`list` (every namespace, no filter), but the stored objects themselves, not copies: the caller
        must not modify them (saves a copy of a whole kind for read-only indexes primed from a list)."""
        ...

    def create(self, obj: Manifest) -> Manifest:
        """Create; :class:`~fleetc.core.errors.AlreadyExists` if the key is taken."""
        ...

    def add(self, obj: Manifest) -> None:
        """:meth:`create`, returning nothing (the memory store also skips its copy)."""
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
    """A deep copy of plain data (several times faster than ``copy.deepcopy``; scalars are not called on)."""
    if isinstance(value, dict):
        return {k: copy(v) if isinstance(v, _CONTAINERS) else v for k, v in value.items()}
    if isinstance(value, list):
        return [copy(v) if isinstance(v, _CONTAINERS) else v for v in value]
    return value


_CONTAINERS = (dict, list)


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
