"""The Kubernetes store: the :class:`~fleetc.runtime.store.Store` protocol over a real API server.

Reads come from informer caches (:mod:`fleetc.runtime.informer`), one per kind, started on first use (a read, a
watch route or :meth:`KubeStore.inform`), as controller-runtime's cached client does; objects of one namespace only
when the store is scoped to it. Writes go to the server: create (POST), update (PUT), status through the status
subresource (PUT ``…/status``), merge patches, server-side apply (PATCH ``application/apply-patch+yaml``, field
manager ``fleetc``, ``force`` to take over conflicting fields), delete (background propagation). A write's response
updates the cache at once and is delivered to watchers as an event (read-your-writes, like the memory store); the
watch's later copy of the same change is dropped as a duplicate.

Watch events arrive on informer threads and wait in an inbox until :meth:`KubeStore.wait` hands them to handlers on
the caller's thread (the manager's loop), so caches and reconcilers stay single-threaded.

A stale resourceVersion (409) on update re-reads the object from the server into the cache before raising
:class:`~fleetc.runtime.store.Conflict`, so the caller's retry (:meth:`KubeStore.edit`, or the manager's requeue) reads
the current object. Callers: whoever needs a real management cluster; made by :func:`fleetc.runtime.kube.connect`.
"""

from __future__ import annotations

import builtins
import json
import queue
import time
from collections.abc import Callable
from typing import Any

from fleetc.core.errors import Conflict, NotFound, StoreError
from fleetc.core.keys import Manifest, ObjectKey
from fleetc.runtime.informer import (
    Informer,
    InformerCache,
    Message,
    RelistMessage,
    WatchMessage,
    WatchType,
    trimmed,
)
from fleetc.runtime.kube.api import APPLY_PATCH, MERGE_PATCH, Api, Call, Resource
from fleetc.runtime.store import (
    CONFLICT_RETRIES,
    FIELD_MANAGER,
    ApplyResult,
    Event,
    EventType,
    Handler,
    copy,
)

GroupKind = tuple[str, str]
LIST_PAGE = 500
"""Objects per page of an informer's list (client-go's pager uses the same)."""


class KubeStore:
    """A :class:`~fleetc.runtime.store.Store` over the API server behind ``api`` (see the module docstring)."""

    def __init__(self, api: Api, *, namespace: str | None = None) -> None:
        self.api = api
        self.namespace = namespace
        """Informers list and watch only this namespace when set (for users whose RBAC is one namespace)."""
        self._caches: dict[GroupKind, InformerCache] = {}
        self._informers: dict[GroupKind, Informer] = {}
        self._inbox: queue.Queue[Message] = queue.Queue()
        self._handlers: list[Handler] = []
        self._shared_handlers: list[Handler] = []
        self.list_page = LIST_PAGE
        """Objects per page when an informer lists its kind."""
        self.conflict_retries = 0
        """How often :meth:`edit` re-read an object after a stale resourceVersion."""

    @property
    def server(self) -> str:
        """The API server's URL."""
        return self.api.server

    # informers

    def inform(self, group: str, kind: str, *, since: str | None = None) -> None:
        """Start an informer for a kind: list it, then watch from the list's resourceVersion (or, with ``since``,
        watch from that older resourceVersion without listing, as a restarted process resumes)."""
        if (group, kind) in self._caches:
            return
        resource = self.api.resource(group, kind)
        cache = self._caches[(group, kind)] = InformerCache()
        informer = Informer((group, kind), lambda: self._list(resource), lambda rv: self._watch(resource, rv),
                            self._inbox.put)  # fmt: skip
        self._informers[(group, kind)] = informer
        if since is None:
            items, since = self._list(resource, cache.keep)  # this thread owns the cache: compact page by page
            self._deliver(cache.replace(items, since, kept=True))
        informer.start(since)

    def informer(self, group: str, kind: str) -> Informer:
        """The running informer of a kind (for its counters)."""
        return self._informers[(group, kind)]

    def _list(
        self, resource: Resource, keep: Callable[[Manifest], Manifest] = trimmed
    ) -> tuple[builtins.list[Manifest], str]:
        """Every object of a kind in pages of :attr:`list_page` (one consistent snapshot, as client-go's pager
        lists: the whole kind is never one response in memory), each object through ``keep`` as its page arrives
        (relists, on an informer's thread, only trim: the cache, owned by the consumer's thread, compacts them). A
        continue token the server has compacted away falls back to one unpaginated list."""
        call = Call("list", resource, self.namespace or "")
        api_version = f"{resource.group}/{resource.version}" if resource.group else resource.version
        items: builtins.list[Manifest] = []
        query = {"limit": str(self.list_page)}
        while True:
            try:
                _, found = self.api.request("GET", resource.path(self.namespace), call, query=query)
            except StoreError:
                if "continue" not in query:
                    raise
                _, found = self.api.request("GET", resource.path(self.namespace), call)
                items.clear()
            items.extend(keep({"apiVersion": api_version, "kind": resource.kind, **item})
                         for item in found.get("items", []))  # fmt: skip
            token = found["metadata"].get("continue")
            if not token:
                return items, str(found["metadata"]["resourceVersion"])
            query = {"limit": str(self.list_page), "continue": token}

    def _watch(self, resource: Resource, resource_version: str) -> Any:
        return self.api.watch(resource, self.namespace, resource_version)

    def kinds(self) -> builtins.list[tuple[str, str]]:
        return sorted(self._caches)

    def wait(self, timeout: float) -> bool:
        """Hand pending watch events to handlers, waiting up to ``timeout`` seconds until one was delivered."""
        deadline = time.monotonic() + timeout
        delivered = False
        while True:
            remaining = deadline - time.monotonic()
            try:
                message = (
                    self._inbox.get(timeout=remaining) if remaining > 0 and not delivered else self._inbox.get_nowait()
                )
            except queue.Empty:
                return delivered
            delivered = self._take(message) or delivered

    def _take(self, message: Message) -> bool:
        cache = self._caches[message.group_kind]
        if isinstance(message, RelistMessage):
            return self._deliver(cache.replace(message.items, message.resource_version))
        assert isinstance(message, WatchMessage)
        return self._deliver(self._observe(cache, message.type, message.object))

    @staticmethod
    def _observe(cache: InformerCache, kind: WatchType, obj: Manifest) -> builtins.list[tuple[EventType, Manifest]]:
        """One change into the cache; the event to deliver, with the object as the cache keeps it (shared, so the
        rollout cache and the informer hold one copy); a deletion carries the object as the server last had it."""
        event = cache.observe(kind, obj)
        if event is None:
            return []
        if event == "DELETED":
            return [(event, trimmed(obj))]
        return [(event, cache.objects[(obj["metadata"].get("namespace", ""), obj["metadata"]["name"])])]

    def _deliver(self, events: builtins.list[tuple[EventType, Manifest]]) -> bool:
        for kind, obj in events:
            key = ObjectKey.of(obj)
            shared = Event(kind, key, obj)
            for handler in self._shared_handlers:
                handler(shared)
            for handler in self._handlers:
                handler(Event(kind, key, copy(obj)))
        return bool(events)

    def _observed(self, obj: Manifest) -> None:
        """A write's response: into the cache and out to watchers now (the watch's copy will be a duplicate)."""
        key = ObjectKey.of(obj)
        cache = self._caches.get((key.group, key.kind))
        if cache is not None:
            self._deliver(self._observe(cache, "MODIFIED", obj))

    def watch(self, handler: Handler) -> None:
        self._handlers.append(handler)

    def watch_shared(self, handler: Handler) -> None:
        self._shared_handlers.append(handler)

    def close(self) -> None:
        """Stop every informer."""
        for informer in self._informers.values():
            informer.request_stop()
        self.api.close()
        for informer in self._informers.values():
            informer.stop()

    # reading (from the informer caches)

    def find(self, key: ObjectKey) -> Manifest | None:
        self.inform(key.group, key.kind)
        found = self._caches[(key.group, key.kind)].objects.get((key.namespace, key.name))
        return copy(found) if found is not None else None

    def get(self, key: ObjectKey) -> Manifest:
        found = self.find(key)
        if found is None:
            raise NotFound(f"{key} not found")
        return found

    def list(
        self, group: str, kind: str, namespace: str | None = None, labels: dict[str, str] | None = None
    ) -> builtins.list[Manifest]:
        self.inform(group, kind)
        return [
            copy(obj)
            for obj in self._caches[(group, kind)].list(namespace)
            if not labels or all(obj["metadata"].get("labels", {}).get(k) == v for k, v in labels.items())
        ]

    def list_shared(self, group: str, kind: str) -> builtins.list[Manifest]:
        """The informer cache's objects of a kind themselves (not copies; the caller must not modify them)."""
        self.inform(group, kind)
        return self._caches[(group, kind)].list()

    def read(self, key: ObjectKey) -> Manifest:
        """The object as the server has it now (not the cache); :class:`NotFound` if absent."""
        resource, call = self._call("get", key)
        _, found = self.api.request("GET", resource.path(key.namespace, key.name), call)
        return self._typed(resource, found)

    # writing

    def create(self, obj: Manifest) -> Manifest:
        key = ObjectKey.of(obj)
        resource, call = self._call("create", key, obj)
        _, created = self.api.request("POST", resource.path(key.namespace), call, body=_body(obj))
        return self._written(resource, created)

    def add(self, obj: Manifest) -> None:
        self.create(obj)

    def update(self, obj: Manifest) -> Manifest:
        return self._put(obj, None)

    def update_status(self, obj: Manifest) -> Manifest:
        return self._put(obj, "status")

    def replace(self, obj: Manifest) -> None:
        self._put(obj, None)

    def replace_status(self, obj: Manifest) -> None:
        self._put(obj, "status")

    def _put(self, obj: Manifest, subresource: str | None) -> Manifest:
        key = ObjectKey.of(obj)
        resource, call = self._call("update", key, obj, subresource)
        try:
            _, updated = self.api.request("PUT", resource.path(key.namespace, key.name, subresource), call,
                                          body=_body(obj))  # fmt: skip
        except Conflict:
            self._refresh(key)
            raise
        return self._written(resource, updated)

    def _refresh(self, key: ObjectKey) -> None:
        """Bring one object of the cache up to the server's version (after a stale write)."""
        try:
            self._observed(self.read(key))
        except NotFound:
            return

    def patch(self, key: ObjectKey, merge_patch: Manifest) -> Manifest:
        resource, call = self._call("patch", key, merge_patch)
        body = {k: v for k, v in merge_patch.items() if k != "status"}
        _, patched = self.api.request("PATCH", resource.path(key.namespace, key.name), call, body=body,
                                      content_type=MERGE_PATCH)  # fmt: skip
        return self._written(resource, patched)

    def apply(
        self, obj: Manifest, *, field_manager: str = FIELD_MANAGER, force: bool = False, dry_run: bool = False
    ) -> ApplyResult:
        """Server-side apply in one request; what it did is read from the answer: 201 created; 200 with the
        resourceVersion the informer cache held before is unchanged, any other updated. An object whose kind is not
        informed (or not cached yet) cannot be told unchanged: it reads as ``updated`` (no GET before the PATCH).

        ``dry_run`` sends ``dryRun=All``: the server validates and admits the object but stores nothing (the caches
        do not see the answer; an existing object reads as ``updated``, a dry run does not say whether it would
        change)."""
        key = ObjectKey.of(obj)
        resource, call = self._call("patch", key, obj)
        cache = self._caches.get((key.group, key.kind))
        cached = cache.objects.get((key.namespace, key.name)) if cache is not None else None
        before = cached["metadata"].get("resourceVersion") if cached is not None else None
        applied = {k: v for k, v in obj.items() if k != "status"}
        applied["metadata"] = {
            k: v for k, v in obj["metadata"].items() if k not in ("managedFields", "resourceVersion")
        }
        query = {"fieldManager": field_manager, "force": "true" if force else "false"}
        if dry_run:
            query["dryRun"] = "All"
        status, result = self.api.request("PATCH", resource.path(key.namespace, key.name), call,
                                          body=json.dumps(applied), query=query, content_type=APPLY_PATCH)  # fmt: skip
        if status == 201:
            if not dry_run:
                self._written(resource, result)
            return "created"
        if dry_run:
            return "updated"
        self._written(resource, result)
        return "unchanged" if before is not None and result["metadata"]["resourceVersion"] == before else "updated"

    def edit(self, key: ObjectKey, change: Callable[[Manifest], None], *, status: bool = False) -> Manifest:
        """Read (the cache), change, write; a stale resourceVersion re-reads from the server and changes again."""
        obj = self.get(key)
        for attempt in range(CONFLICT_RETRIES):
            change(obj)
            try:
                return self.update_status(obj) if status else self.update(obj)
            except Conflict:
                if attempt == CONFLICT_RETRIES - 1:
                    raise
                self.conflict_retries += 1
                obj = self.read(key)
        raise AssertionError("unreachable")  # pragma: no cover

    def delete(self, key: ObjectKey) -> None:
        resource, call = self._call("delete", key)
        self.api.request("DELETE", resource.path(key.namespace, key.name), call,
                         body={"propagationPolicy": "Background"})  # fmt: skip

    # helpers

    def _call(
        self, verb: str, key: ObjectKey, obj: Manifest | None = None, subresource: str | None = None
    ) -> tuple[Resource, Call]:
        version = obj["apiVersion"].rpartition("/")[2] if obj is not None and "apiVersion" in obj else None
        resource = self.api.resource(key.group, key.kind, version)
        return resource, Call(verb, resource, key.namespace if resource.namespaced else "", key, subresource)

    def _typed(self, resource: Resource, obj: Manifest) -> Manifest:
        api_version = f"{resource.group}/{resource.version}" if resource.group else resource.version
        return {
            "apiVersion": api_version,
            "kind": resource.kind,
            **{k: v for k, v in obj.items() if k not in ("apiVersion", "kind")},
        }

    def _written(self, resource: Resource, obj: Manifest) -> Manifest:
        typed = self._typed(resource, obj)
        self._observed(typed)
        result: Manifest = copy(typed)
        return result


def _body(obj: Manifest) -> Manifest:
    return {k: v for k, v in obj.items() if k != "managedFields"}
