"""HTTP to the Kubernetes API server: requests with timeouts and retries, errors saying what to do, discovery, watches.

Raw ``ApiClient`` calls (the ``kubernetes`` package's transport, TLS and authentication) on REST paths built here,
not the generated typed APIs (one class per group) nor the dynamic client (its discovery cache file, its wrapped
objects): fleetc's objects are plain dicts, and every request goes through one place that decides on retries and
errors. What it guarantees:

- every request has a timeout (connect, read); a watch's read timeout exceeds the server-side ``timeoutSeconds``;
- 429 and 5xx (and timeouts) are retried with exponential backoff and full jitter, honouring ``Retry-After``,
  a bounded number of times, then :class:`~fleetc.core.errors.ServerError` (exit 4, the last answer quoted); any
  other 4xx is not retried;
- a server that cannot be reached raises :class:`~fleetc.core.errors.TargetUnreachableError` (exit 4) naming
  its URL; 403 raises :class:`~fleetc.core.errors.ForbiddenError` with the missing RBAC rule (or
  :class:`~fleetc.core.errors.NamespaceTerminating` when the namespace is being deleted); 404, 409 map to
  the store's ``NotFound``, ``AlreadyExists``, ``Conflict`` and ``FieldConflict`` (manager and field named).
Callers: :mod:`fleetc.runtime.kube.store`.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import urllib3
from kubernetes import client
from kubernetes.watch.watch import iter_resp_lines

from fleetc.core.errors import (
    AlreadyExists,
    Conflict,
    FieldConflict,
    ForbiddenError,
    NamespaceTerminating,
    NotFound,
    Rejected,
    ServerError,
    StoreError,
    TargetUnreachableError,
)
from fleetc.core.keys import Manifest, ObjectKey
from fleetc.runtime.informer import Gone, WatchType, backoff

CONNECT_TIMEOUT, READ_TIMEOUT = 5.0, 30.0
RETRIES = 5
BACKOFF_BASE, BACKOFF_MAX = 0.1, 5.0
WATCH_SECONDS = 60
"""Server-side length of one watch; the informer resumes from its last resourceVersion after each."""
_CONFLICT_MANAGER = re.compile(r'conflict with "([^"]*)"')
JSON = "application/json"
MERGE_PATCH = "application/merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"


@dataclass(frozen=True)
class Resource:
    """A kind as the API serves it: group, version, plural name, and whether it lives in namespaces."""

    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool

    def path(self, namespace: str | None = None, name: str | None = None, subresource: str | None = None) -> str:
        """The REST path of the collection (in ``namespace``, or across all), an object, or its subresource."""
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            base += f"/namespaces/{namespace}"
        base += f"/{self.plural}"
        if name is not None:
            base += f"/{name}"
        if subresource is not None:
            base += f"/{subresource}"
        return base


@dataclass(frozen=True)
class Call:
    """What a request does, for error messages: RBAC verb, resource (with subresource), namespace, object key."""

    verb: str
    resource: Resource
    namespace: str = ""
    key: ObjectKey | None = None
    subresource: str | None = None

    @property
    def resource_name(self) -> str:
        """The RBAC resource name (``clusters/status`` for a subresource)."""
        return f"{self.resource.plural}/{self.subresource}" if self.subresource else self.resource.plural


class Api:
    """One API server: requests (:meth:`request`), discovery (:meth:`resource`) and watch streams (:meth:`watch`)."""

    def __init__(
        self,
        api_client: Any,
        server: str,
        *,
        connect_timeout: float = CONNECT_TIMEOUT,
        read_timeout: float = READ_TIMEOUT,
        retries: int = RETRIES,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client, self.server = api_client, server
        self.timeout = (connect_timeout, read_timeout)
        self.retries, self.sleep = retries, sleep
        """How a retry waits its backoff (``time.sleep``; whoever wants to see the delays wraps it)."""
        self._resources: dict[tuple[str, str], list[Resource]] = {}
        self._preferred: dict[str, str] = {}
        self._open: set[Any] = set()
        self._lock = threading.Lock()
        self.retried = 0
        """How many requests were retried after a 429, 5xx or timeout."""
        self.sent = 0
        """How many requests were sent (retries and watches included)."""

    # requests

    def request(
        self,
        method: str,
        path: str,
        call: Call | None,
        *,
        body: Any = None,
        query: dict[str, str] | None = None,
        content_type: str = JSON,
    ) -> tuple[int, Manifest]:
        """Send a request, retrying 429/5xx/timeouts; (status, decoded body) of a 2xx answer, else a mapped error."""
        target = path + (f"?{urlencode(query)}" if query else "")
        for attempt in range(self.retries + 1):
            response = self._send(
                method, target, body, content_type, self.timeout, retry_timeouts=attempt < self.retries
            )
            if response is None:
                self._retry(attempt, None)
                continue
            status, data = response.status, response.read()
            if 200 <= status < 300:
                return status, json.loads(data) if data else {}
            if (status == 429 or status >= 500) and attempt < self.retries:
                self._retry(attempt, response.getheader("Retry-After"))
                continue
            raise _error(status, _decoded(data), call, path)
        raise AssertionError("unreachable")  # pragma: no cover

    def _send(
        self, method: str, target: str, body: Any, content_type: str, timeout: Any, *, retry_timeouts: bool
    ) -> Any:
        """The response, or None after a timeout worth retrying; :class:`TargetUnreachableError` if unreachable."""
        headers = {"Accept": JSON, "Content-Type": content_type}
        self.sent += 1
        _, url, headers, _, _ = self.client.param_serialize(
            method, target, header_params=headers, auth_settings=["BearerToken"]
        )
        try:
            return self.client.call_api(method, url, header_params=headers, body=body, _request_timeout=timeout)
        except (urllib3.exceptions.ReadTimeoutError, urllib3.exceptions.ConnectTimeoutError) as exc:
            # NewConnectionError (refused, no route) is a ConnectTimeoutError too: a restarting server gets retries.
            if retry_timeouts:
                return None
            raise TargetUnreachableError(self.server, _reason(exc)) from exc
        except (urllib3.exceptions.HTTPError, client.exceptions.ApiException, OSError) as exc:
            raise TargetUnreachableError(self.server, _reason(exc)) from exc

    def _retry(self, attempt: int, retry_after: str | None) -> None:
        self.retried += 1
        delay = backoff(attempt + 1, BACKOFF_BASE, BACKOFF_MAX)
        if retry_after and retry_after.isdigit():
            delay = max(delay, min(float(retry_after), BACKOFF_MAX))
        self.sleep(delay)

    # discovery

    def resource(self, group: str, kind: str, version: str | None = None) -> Resource:
        """How the server serves ``kind`` of ``group`` (in ``version``, else the group's preferred version)."""
        chosen = version or self._preferred_version(group)
        for resource in self._group_version(group, chosen):
            if resource.kind == kind:
                return resource
        raise NotFound(f"the server does not serve kind {kind} in {group or 'core'}/{chosen}")

    def forget_discovery(self) -> None:
        """Drop what discovery learnt (after CRDs were installed, their kinds are found on the next lookup)."""
        self._resources.clear()
        self._preferred.clear()

    def _preferred_version(self, group: str) -> str:
        if not group:
            return "v1"
        if group not in self._preferred:
            _, found = self.request("GET", f"/apis/{group}", None)
            self._preferred[group] = found["preferredVersion"]["version"]
        return self._preferred[group]

    def _group_version(self, group: str, version: str) -> list[Resource]:
        if (group, version) not in self._resources:
            path = f"/apis/{group}/{version}" if group else f"/api/{version}"
            try:
                _, found = self.request("GET", path, None)
            except NotFound as exc:
                raise NotFound(f"the server does not serve {group or 'core'}/{version}") from exc
            self._resources[(group, version)] = [
                Resource(group, version, r["kind"], r["name"], bool(r["namespaced"]))
                for r in found.get("resources", [])
                if "/" not in r["name"]
            ]
        return self._resources[(group, version)]

    # watches

    def watch(
        self, resource: Resource, namespace: str | None, resource_version: str
    ) -> Iterator[tuple[WatchType, Any]]:
        """The events of one watch from ``resource_version`` until the server ends it; :class:`Gone` on 410."""
        query = {
            "watch": "1",
            "resourceVersion": resource_version,
            "allowWatchBookmarks": "true",
            "timeoutSeconds": str(WATCH_SECONDS),
        }
        target = f"{resource.path(namespace)}?{urlencode(query)}"
        call = Call("watch", resource, namespace or "")
        response = self._send("GET", target, None, JSON, (self.timeout[0], WATCH_SECONDS + 15), retry_timeouts=False)
        raw = response.response
        with self._lock:
            self._open.add(raw)
        try:
            if response.status == 410:
                raise Gone(resource_version)
            if response.status != 200:
                raise _error(response.status, _decoded(response.read()), call, resource.path(namespace))
            for line in iter_resp_lines(raw):
                event = json.loads(line)
                if event["type"] == "ERROR":
                    status = event["object"]
                    if status.get("code") == 410:
                        raise Gone(resource_version)
                    raise _error(int(status.get("code") or 500), status, call, resource.path(namespace))
                yield event["type"], event["object"]
        finally:
            with self._lock:
                self._open.discard(raw)
            raw.release_conn()

    def close(self) -> None:
        """End open watch streams (their informers see the stream end and stop)."""
        with self._lock:
            responses = list(self._open)
        for response in responses:
            try:
                response.shutdown()
            except (RuntimeError, OSError):  # the stream ended meanwhile (connection back in the pool, socket closed)
                continue


def _decoded(data: bytes) -> Manifest:
    try:
        found = json.loads(data)
    except ValueError:
        return {"message": data.decode(errors="replace")[:500]}
    return found if isinstance(found, dict) else {"message": str(found)}


def _reason(exc: BaseException) -> str:
    """The innermost cause of a connection failure, in a few words."""
    inner: BaseException = exc
    while getattr(inner, "reason", None) is not None and isinstance(inner.reason, BaseException):  # type: ignore[attr-defined]
        inner = inner.reason  # type: ignore[attr-defined]
    text = str(inner)
    return text.split(": ", 1)[1] if "Failed to establish a new connection: " in text else text


def _conflict(body: Manifest, call: Call | None, where: str, message: str) -> StoreError:
    """409: the name is taken, a field another manager owns (server-side apply), or a stale resourceVersion."""
    if body.get("reason") == "AlreadyExists":
        return AlreadyExists(f"{where} already exists")
    causes = (body.get("details") or {}).get("causes") or []
    fields = [
        (_CONFLICT_MANAGER.search(c.get("message", "")), c.get("field", "")) for c in causes
        if c.get("reason") == "FieldManagerConflict"
    ]  # fmt: skip
    if fields and call is not None and call.key is not None:
        return FieldConflict(call.key, [(m.group(1) if m else "?", field) for m, field in fields])
    return Conflict(f"{where} was modified ({message})")


def _rejected(body: Manifest, where: str, message: str) -> Rejected:
    """422 Invalid: one ``field: message`` line per cause (the CRD schema's and CEL rules' reasons)."""
    causes = [
        f"{c['field']}: {c.get('message', '')}" if c.get("field") else str(c.get("message", ""))
        for c in (body.get("details") or {}).get("causes") or []
    ]
    return Rejected(f"{where}: {message} (HTTP 422)", causes)


def _namespace_terminating(body: Manifest) -> bool:
    """A 403 because the namespace is being deleted (the API server's ``NamespaceTerminating`` cause), not RBAC."""
    causes = (body.get("details") or {}).get("causes") or []
    return any(c.get("reason") == "NamespaceTerminating" for c in causes) or "because it is being terminated" in str(
        body.get("message", "")
    )


def _forbidden(body: Manifest, call: Call, where: str, message: str) -> StoreError:
    """403: the namespace is being deleted, or RBAC denied the request (with the rule that would allow it)."""
    if _namespace_terminating(body):
        return NamespaceTerminating(where, call.namespace)
    return ForbiddenError(call.verb, call.resource.group, call.resource_name, call.namespace, message)


def _error(status: int, body: Manifest, call: Call | None, path: str) -> StoreError:
    message = str(body.get("message") or f"HTTP {status}")
    where = str(call.key) if call is not None and call.key is not None else path
    if status == 403 and call is not None:
        return _forbidden(body, call, where, message)
    if status == 404:
        return NotFound(f"{where} not found")
    if status == 409:
        return _conflict(body, call, where, message)
    if status == 422:
        return _rejected(body, where, message)
    if status == 429 or status >= 500:
        return ServerError(f"{where}: the API server kept failing (HTTP {status}: {message})")
    return StoreError(f"{where}: {message} (HTTP {status})")
