"""Informers: the cache of one kind that a store backed by an API server reads from, kept current by list + watch.

What client-go's reflector and informer do, in two parts:

- :class:`InformerCache` (pure, single-threaded): the objects of one kind by (namespace, name). It takes a full list
  (:meth:`~InformerCache.replace`, after the first list and after every relist) and single watch events
  (:meth:`~InformerCache.observe`), and answers with the events its handlers should see. It tolerates late and
  duplicate events: an event whose resourceVersion is not newer than what the cache holds for that object (or than
  the deletion it already saw) is dropped, so a store may also feed it its own write responses at once
  (read-your-writes) and the watch's copy of the same write later changes nothing. A relist keeps objects newer than
  the list and emits DELETED for the ones that are gone. It keeps objects compact (:meth:`~InformerCache.keep`):
  without managedFields, and with equal parts stored once (:class:`Compactor`), since a management cluster's
  thousands of CAPI objects repeat most of their content.
- :class:`Informer` (a thread): watches from a resourceVersion, follows bookmarks, resumes after a watch ends, backs
  off after errors, and relists when the server answers 410 Gone (the resourceVersion was compacted away). It only
  reads from the server and hands :class:`WatchMessage` and :class:`RelistMessage` to a sink; applying them to the
  cache happens on the consumer's thread (:meth:`fleetc.runtime.kube.KubeStore.wait`), so nothing here needs a lock.

Callers: :mod:`fleetc.runtime.kube`. Nothing here knows HTTP: the list and watch functions are given.
"""

from __future__ import annotations

import builtins
import random
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from sys import getrefcount, intern
from typing import Any, Literal, TypeVar

from fleetc.core.keys import Manifest
from fleetc.runtime.store import EventType

T = TypeVar("T")

WatchType = Literal["ADDED", "MODIFIED", "DELETED", "BOOKMARK"]
ObjectName = tuple[str, str]
"""(namespace, name)."""
BACKOFF_BASE, BACKOFF_MAX = 0.2, 10.0


class Gone(Exception):
    """The server no longer has the requested resourceVersion (410 Gone): the informer must relist."""


def version(obj: Manifest) -> int | None:
    """An object's resourceVersion as a number (etcd revisions are), or None if it is not one."""
    text = obj.get("metadata", {}).get("resourceVersion")
    try:
        return int(text)
    except (TypeError, ValueError):
        return None


def _not_newer(seen: int | None, incoming: int | None) -> bool:
    return seen is not None and incoming is not None and incoming <= seen


def trimmed(obj: Manifest) -> Manifest:
    """The object without ``metadata.managedFields``, which the API server adds to every object and no reader of a
    cache uses (controller-runtime's caches drop it the same way, with a transform); on a management cluster it is a
    third of a CAPI object's size. ``obj`` itself is not changed."""
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict) or "managedFields" not in metadata:
        return obj
    return {**obj, "metadata": {k: v for k, v in metadata.items() if k != "managedFields"}}


class SharedPool:
    """Hash-consing for parts that are never modified: one object per content, found by a hash of it. Parts only
    the pool still holds are dropped (:meth:`purge_if_grown`) every time it has doubled. Used by :class:`Compactor`
    and by the simulation's conditions (:mod:`fleetc.sim.status`)."""

    def __init__(self) -> None:
        self._pool: dict[int, Any] = {}
        self._purge_at = PURGE_MIN
        self.find: Callable[[int], Any] = self._pool.get
        """The pooled part under a key, or None (the caller checks it is the one it wants: keys can collide); the
        dict's own ``get``, as hot paths call it for every part they make."""

    def __len__(self) -> int:
        return len(self._pool)

    def shared(self, key: int, made: T, same: Callable[[T, T], bool]) -> T:
        """The pooled equal of ``made`` under ``key`` (``made`` itself when it is the first, or on a collision)."""
        found: T = self._pool.setdefault(key, made)
        return found if found is made or same(found, made) else made

    def purge_if_grown(self) -> None:
        """Drop the parts nobody else holds once the pool has doubled since the last purge."""
        if len(self._pool) <= self._purge_at:
            return
        for key in list(self._pool):
            if getrefcount(self._pool[key]) <= 2:  # the pool's reference and the argument's: nobody else uses it
                del self._pool[key]
        self._purge_at = max(PURGE_MIN, 2 * len(self._pool))


class Compactor:
    """Structural sharing for the objects a cache keeps (they are never modified, so equal parts can be one object).

    Every string is interned, and every dict or list below an object's top level that equals one already kept (same
    keys, same scalar values of the same types, the very same shared children) is replaced by that one: thousands
    of CAPI objects repeat the same keys, condition lists, selectors and templates, and JSON decoding makes new
    ones each time. The parts are kept in a :class:`SharedPool` keyed by a content hash."""

    def __init__(self) -> None:
        self._pool = SharedPool()

    def __call__(self, obj: Manifest) -> Manifest:
        """A compact equal of ``obj`` (a new object; ``obj`` is not changed)."""
        compact: Manifest = self._compact(obj, 0)
        self._pool.purge_if_grown()
        return compact

    @property
    def pooled(self) -> int:
        """How many parts the pool holds."""
        return len(self._pool)

    def _compact(self, value: Any, depth: int) -> Any:
        if type(value) is str:
            return intern(value)
        if type(value) is dict:
            made: Any = {intern(k) if type(k) is str else k: self._compact(v, depth + 1) for k, v in value.items()}
            key = hash(tuple((k, _identity(v)) for k, v in made.items()))
        elif type(value) is list:
            made = [self._compact(v, depth + 1) for v in value]
            key = hash(tuple(_identity(v) for v in made))
        else:
            return value
        if depth == 0:
            return made
        return self._pool.shared(key, made, _same)


PURGE_MIN = 4096


def _identity(value: Any) -> Any:
    """What makes a part equal to another whose children are already shared: children by identity, scalars by
    type and value (``1``, ``1.0`` and ``True`` are equal in Python, not in JSON)."""
    return id(value) if type(value) in (dict, list) else (type(value), value)


def _same(kept: Any, made: Any) -> bool:
    if type(kept) is not type(made) or len(kept) != len(made):
        return False
    if type(made) is dict:
        return all(k in kept and _identity(kept[k]) == _identity(v) for k, v in made.items())
    return all(_identity(a) == _identity(b) for a, b in zip(kept, made, strict=True))


def _name_of(obj: Manifest) -> ObjectName:
    return obj["metadata"].get("namespace", ""), obj["metadata"]["name"]


@dataclass
class InformerCache:
    """The objects of one kind, with the events that changing them produces (see the module docstring)."""

    objects: dict[ObjectName, Manifest] = field(default_factory=dict)
    resource_version: str = ""
    """The newest list, watch event or bookmark resourceVersion seen."""
    synced: bool = False
    """True once a full list was taken."""
    _deleted: dict[ObjectName, int] = field(default_factory=dict)
    _compact: Compactor = field(default_factory=Compactor)

    def keep(self, obj: Manifest) -> Manifest:
        """The object as this cache keeps it: :func:`trimmed`, then compacted (:class:`Compactor`)."""
        return self._compact(trimmed(obj))

    def replace(
        self, items: Iterable[Manifest], resource_version: str, *, kept: bool = False
    ) -> builtins.list[tuple[EventType, Manifest]]:
        """Take a full list made at ``resource_version``; the events that bring watchers up to date. ``kept``: the
        items went through :meth:`keep` already (a lister that compacts page by page never holds a whole kind's
        decoded JSON at once)."""
        listed = {_name_of(obj): obj if kept else self.keep(obj) for obj in items}
        at = version({"metadata": {"resourceVersion": resource_version}})
        events: list[tuple[EventType, Manifest]] = []
        for name, old in list(self.objects.items()):
            written_after_list = at is not None and not _not_newer(at, version(old)) and version(old) is not None
            if name not in listed and not written_after_list:
                del self.objects[name]
                events.append(("DELETED", old))
        for name, obj in sorted(listed.items()):
            cached = self.objects.get(name)
            if cached is None:
                self.objects[name] = obj
                events.append(("ADDED", obj))
            elif not _not_newer(version(cached), version(obj)):
                self.objects[name] = obj
                events.append(("MODIFIED", obj))
        self._deleted = {k: v for k, v in self._deleted.items() if at is None or v > at}
        self.resource_version, self.synced = resource_version, True
        return events

    def observe(self, kind: WatchType, obj: Manifest) -> EventType | None:
        """Apply one watch event (or a write's response); the event to deliver, or None when it changes nothing
        (a bookmark, a duplicate, or an event older than what the cache holds)."""
        incoming = version(obj)
        if kind == "BOOKMARK":
            self._advance(obj)
            return None
        name = _name_of(obj)
        known = self.objects.get(name)
        if (known is not None and _not_newer(version(known), incoming)) or _not_newer(
            self._deleted.get(name), incoming
        ):
            return None
        self._advance(obj)
        if kind == "DELETED":
            self.objects.pop(name, None)
            if incoming is not None:
                self._deleted[name] = incoming
            return "DELETED" if known is not None else None
        self.objects[name] = self.keep(obj)
        self._deleted.pop(name, None)
        return "ADDED" if known is None else "MODIFIED"

    def _advance(self, obj: Manifest) -> None:
        incoming = version(obj)
        current = version({"metadata": {"resourceVersion": self.resource_version}})
        if incoming is not None and (current is None or incoming > current):
            self.resource_version = str(incoming)

    def list(self, namespace: str | None = None) -> builtins.list[Manifest]:
        """The cached objects (shared: do not modify), sorted by namespace and name."""
        return [obj for (ns, _), obj in sorted(self.objects.items()) if namespace is None or ns == namespace]


@dataclass(frozen=True)
class WatchMessage:
    """One watch event of one kind (``BOOKMARK`` included)."""

    group_kind: tuple[str, str]
    type: WatchType
    object: Manifest


@dataclass(frozen=True)
class RelistMessage:
    """A full list of one kind, taken after the watch's resourceVersion was gone."""

    group_kind: tuple[str, str]
    items: builtins.list[Manifest]
    resource_version: str


Message = WatchMessage | RelistMessage
Lister = Callable[[], tuple[builtins.list[Manifest], str]]
"""Lists the kind: (items, the list's resourceVersion)."""
Watcher = Callable[[str], Iterator[tuple[WatchType, Manifest]]]
"""Watches from a resourceVersion until the server ends the watch; raises :class:`Gone` on 410."""


class Informer:
    """A thread that keeps one kind flowing into ``sink``: watch, resume, back off, relist on 410 Gone."""

    def __init__(self, group_kind: tuple[str, str], lister: Lister, watcher: Watcher, sink: Callable[[Message], None]):
        self.group_kind = group_kind
        self._list, self._watch, self._sink = lister, watcher, sink
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.relists = 0
        self.bookmarks = 0
        self.errors: list[str] = []

    def start(self, resource_version: str) -> None:
        """Watch from ``resource_version`` (the first list's, or an older one to resume from)."""
        name = f"informer {'/'.join(self.group_kind)}"
        self._thread = threading.Thread(target=self._run, args=(resource_version,), name=name, daemon=True)
        self._thread.start()

    def request_stop(self) -> None:
        """Ask the thread to end (it notices at the next event, or when its watch stream ends)."""
        self._stopping.set()

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the thread to end and wait for it."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def stopping(self) -> bool:
        """True once :meth:`stop` was called."""
        return self._stopping.is_set()

    def _run(self, resource_version: str) -> None:
        failures = 0
        while not self._stopping.is_set():
            try:
                for kind, obj in self._watch(resource_version):
                    if self._stopping.is_set():
                        return
                    failures = 0
                    resource_version = obj["metadata"].get("resourceVersion", resource_version)
                    self.bookmarks += kind == "BOOKMARK"
                    self._sink(WatchMessage(self.group_kind, kind, obj))
            except Gone:
                resource_version = self._relist(resource_version)
            except Exception as exc:  # a broken watch is retried, whatever broke it
                if self._stopping.is_set():
                    return
                failures += 1
                self.errors.append(f"{type(exc).__name__}: {exc}")
                self._stopping.wait(backoff(failures))

    def _relist(self, resource_version: str) -> str:
        self.relists += 1
        try:
            items, listed_at = self._list()
        except Exception as exc:  # the next watch attempt, from the old resourceVersion, will be Gone again
            self.errors.append(f"relist: {type(exc).__name__}: {exc}")
            self._stopping.wait(BACKOFF_BASE)
            return resource_version
        self._sink(RelistMessage(self.group_kind, items, listed_at))
        return listed_at


def backoff(failures: int, base: float = BACKOFF_BASE, cap: float = BACKOFF_MAX) -> float:
    """Exponential backoff with full jitter: a random delay up to ``base * 2**(failures-1)``, at most ``cap``."""
    return random.uniform(0, min(cap, base * 2 ** max(0, failures - 1)))
