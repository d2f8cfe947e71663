"""Notifications: the rollout's halts, finished waves, approvals needed and completion, sent to the fleet's receivers.

The rollout controller only writes its timeline; this module, at the edge, turns new timeline entries into HTTP
POSTs (``fleet.yaml`` ``spec.notifications``, carried in ``FleetRollout.spec.notifications``):

- :class:`Notifier` watches the store for FleetRollout changes and queues one delivery per (new entry, receiver
  that subscribed to its type). Entries already there when the notifier starts count as already sent, so a rerun
  or a new controller leader does not repeat them;
- :class:`Sender` delivers on a background thread from a bounded queue: each delivery is tried ``1 + retries``
  times with a per-attempt ``timeout`` (a 5xx, 429, refused connection or timeout is retried with backoff; another
  4xx is not). A full queue drops the delivery. Nothing here ever blocks or fails the rollout: failures are logged
  and collected in a :class:`Report` for the command to print.

Bodies (POSTed with :mod:`http.client`, the stdlib layer under ``urllib.request``, whose error path leaks the socket
of a timed-out response): ``webhook`` receivers get :func:`webhook_body` (JSON, ``"version": 1``, documented in
docs/spec.md); ``slack`` receivers get a Slack incoming-webhook body (``{"text": ...}``, :func:`slack_body`).
Receiver URLs are secrets: they come from an environment variable or a Kubernetes Secret (read when sending, by the
sender thread), never appear in a log line or a report (messages pass through :func:`fleetc.core.redact.redact`,
and the URL is never formatted into one). Callers: :mod:`fleetc.engine.local` and :mod:`fleetc.engine.kube`
(``fleetc apply``), :mod:`fleetc.engine.controller` (the in-cluster controller).
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import logging
import os
import queue
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fleetc.contract.timestamps import parse_timestamp
from fleetc.core.errors import FleetcError
from fleetc.core.keys import Manifest, ObjectKey
from fleetc.core.redact import redact
from fleetc.rollout.model import FLEET_ROLLOUT, GROUP
from fleetc.runtime.store import Event, Store
from fleetc.schema.notifications import NotificationPolicy, Receiver, UrlSource

log = logging.getLogger("fleetc.notify")

BODY_VERSION = 1
BODY_KIND = "FleetRolloutNotification"
QUEUE_SIZE = 256
BACKOFF_SECONDS = 0.5
RETRIED_STATUSES = frozenset({408, 429})


class NotDelivered(Exception):
    """One attempt failed; ``retry`` says whether another may succeed. The message never holds the URL."""

    def __init__(self, message: str, *, retry: bool) -> None:
        super().__init__(message)
        self.retry = retry


@dataclass(frozen=True)
class Notification:
    """One timeline entry of a rollout, as receivers get it."""

    event: str
    fleet: str
    namespace: str
    revision: str
    phase: str
    wave: str
    message: str
    time: str
    seq: int


def webhook_body(note: Notification) -> dict[str, Any]:
    """The generic webhook body (version 1)."""
    return {
        "version": BODY_VERSION,
        "kind": BODY_KIND,
        "event": note.event,
        "fleet": note.fleet,
        "namespace": note.namespace,
        "revision": note.revision,
        "phase": note.phase,
        "wave": note.wave,
        "message": note.message,
        "time": note.time,
        "seq": note.seq,
    }


def slack_body(note: Notification) -> dict[str, Any]:
    """A Slack incoming-webhook body: one line of text."""
    where = f" wave {note.wave}" if note.wave else ""
    text = f"fleetc: rollout {note.namespace}/{note.fleet}{where}: {note.event}"
    return {"text": f"{text}: {note.message}" if note.message else text}


def body_of(receiver: Receiver, note: Notification) -> bytes:
    """What ``receiver`` is sent for ``note``."""
    body = slack_body(note) if receiver.type == "slack" else webhook_body(note)
    return json.dumps(body, sort_keys=True).encode()


UrlResolver = Callable[[UrlSource, str], str]
"""(where the URL comes from, the rollout's namespace) → the URL; raises :class:`NotDelivered` when unavailable."""


def env_resolver(environ: Mapping[str, str] | None = None) -> UrlResolver:
    """URLs from environment variables; a Secret reference cannot be read (no management cluster)."""
    env = os.environ if environ is None else environ

    def resolve(source: UrlSource, namespace: str) -> str:
        if source.env is not None:
            value = env.get(source.env, "")
            if not value:
                raise NotDelivered(f"env {source.env} is not set", retry=False)
            return value
        raise NotDelivered(f"{source.describe()}: Secrets need a management cluster", retry=False)

    return resolve


def secret_resolver(
    read: Callable[[ObjectKey], Manifest | None], environ: Mapping[str, str] | None = None
) -> UrlResolver:
    """URLs from environment variables or from Secrets in the rollout's namespace, fetched with ``read`` (one GET
    per delivery: a Secret is never cached nor watched)."""
    from_env = env_resolver(environ)

    def resolve(source: UrlSource, namespace: str) -> str:
        ref = source.secret_key_ref
        if ref is None:
            return from_env(source, namespace)
        try:
            secret = read(ObjectKey("", "Secret", namespace, ref.name))
        except FleetcError as exc:
            raise NotDelivered(f"{source.describe()}: cannot read the Secret: {exc}", retry=True) from None
        encoded = ((secret or {}).get("data") or {}).get(ref.key)
        if not encoded:
            raise NotDelivered(f"{source.describe()}: no such Secret key in namespace {namespace}", retry=False)
        return base64.b64decode(encoded).decode().strip()

    return resolve


@dataclass(frozen=True)
class Delivery:
    """One notification for one receiver."""

    receiver: Receiver
    note: Notification
    namespace: str


@dataclass
class Report:
    """What the sender did: deliveries sent, and why others were not (no URLs)."""

    sent: int = 0
    failures: list[str] = field(default_factory=list)
    dropped: int = 0
    pending: int = 0

    def lines(self) -> list[str]:
        """For the command's output; empty when nothing was attempted."""
        failed = len(self.failures)
        if not (self.sent or failed or self.dropped or self.pending):
            return []
        head = f"notifications: {self.sent} sent, {failed} not delivered"
        head += f", {self.dropped} dropped (queue full)" if self.dropped else ""
        head += f", {self.pending} abandoned at exit" if self.pending else ""
        return [head, *(f"  {reason}" for reason in dict.fromkeys(self.failures))]


def post(url: str, body: bytes, timeout: float) -> None:
    """POST ``body`` as JSON; :class:`NotDelivered` on anything but a 2xx (never naming the URL). The connection is
    closed on every path (a timed-out response left to the garbage collector would leak its socket)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise NotDelivered("the URL is not a valid http(s) URL", retry=False)
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection = kind(parts.hostname, parts.port, timeout=timeout)
    except ValueError:
        raise NotDelivered("the URL is not a valid http(s) URL", retry=False) from None
    try:
        connection.request("POST", path, body=body, headers={"Content-Type": "application/json"})
        with connection.getresponse() as response:
            response.read()
            status = response.status
    except TimeoutError:
        raise NotDelivered("not reachable: timed out", retry=True) from None
    except (OSError, http.client.HTTPException) as exc:
        raise NotDelivered(f"not reachable: {type(exc).__name__}: {exc}", retry=True) from None
    finally:
        connection.close()
    if not 200 <= status < 300:
        raise NotDelivered(f"HTTP {status}", retry=status >= 500 or status in RETRIED_STATUSES)


class Sender:
    """Delivers on one background thread from a bounded queue; :meth:`submit` never blocks."""

    def __init__(
        self,
        policy: NotificationPolicy,
        resolve: UrlResolver,
        *,
        queue_size: int = QUEUE_SIZE,
        backoff: float = BACKOFF_SECONDS,
        send: Callable[[str, bytes, float], None] = post,
    ) -> None:
        self.policy, self._resolve, self._backoff, self._send = policy, resolve, backoff, send
        self._queue: queue.Queue[Delivery | None] = queue.Queue(maxsize=queue_size)
        self._lock = threading.Lock()
        self.report = Report()
        self._thread = threading.Thread(target=self._run, name="fleetc-notify", daemon=True)
        self._thread.start()

    def submit(self, delivery: Delivery) -> bool:
        """Queue a delivery; False (counted as dropped) when the queue is full."""
        try:
            self._queue.put_nowait(delivery)
        except queue.Full:
            with self._lock:
                self.report.dropped += 1
            log.warning("notification %s to %s dropped: queue full", delivery.note.event, delivery.receiver.name)
            return False
        return True

    def _run(self) -> None:
        while True:
            delivery = self._queue.get()
            try:
                if delivery is None:
                    return
                self._deliver(delivery)
            finally:
                self._queue.task_done()

    def _deliver(self, delivery: Delivery) -> None:
        receiver, attempts = delivery.receiver, 1 + self.policy.retries
        error = NotDelivered("not attempted", retry=False)
        for attempt in range(attempts):
            if attempt:
                time.sleep(self._backoff * 2 ** (attempt - 1))
            try:
                url = self._resolve(receiver.url_from, delivery.namespace)
                self._send(url, body_of(receiver, delivery.note), float(self.policy.timeout))
            except NotDelivered as exc:
                error = exc
                if not exc.retry:
                    break
                continue
            with self._lock:
                self.report.sent += 1
            return
        tries = f"after {attempt + 1} attempt{'s' if attempt else ''}"
        reason = redact(f"receiver {receiver.name}: {delivery.note.event} not delivered {tries}: {error}")
        with self._lock:
            self.report.failures.append(reason)
        log.warning("%s", reason)

    def close(self, wait: float) -> Report:
        """Stop accepting, give queued deliveries up to ``wait`` seconds, and report (what is left is abandoned)."""
        deadline = time.monotonic() + wait
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.02)
        with self._lock:
            self.report.pending = self._queue.unfinished_tasks
        with contextlib.suppress(queue.Full):  # when full, the daemon thread is abandoned with the queue
            self._queue.put_nowait(None)
        return self.report


class Notifier:
    """Watches FleetRollouts in a store and hands new timeline entries to a :class:`Sender` per rollout policy."""

    def __init__(
        self,
        store: Store,
        resolve: UrlResolver,
        since: float,
        *,
        only: ObjectKey | None = None,
        elsewhere: Callable[[ObjectKey], bool] | None = None,
        **sender: Any,
    ) -> None:
        """Entries already in the store's FleetRollouts count as sent; when they cannot be listed (no CRD yet),
        entries stamped before ``since`` do. ``only``: notify for this FleetRollout alone (the one this process
        carries out; another's notifications are its own runner's to send). ``elsewhere``: True for a rollout another
        process carries out at the moment (the in-cluster controller's notifier leaves its entries to that runner, and
        sends those written after it took the rollout over: :mod:`fleetc.engine.runner`)."""
        self._resolve, self._since, self._sender_options = resolve, since, sender
        self._only = only
        self._elsewhere = elsewhere
        self._seen: dict[ObjectKey, int] = {}
        self._baseline = False
        self.senders: dict[ObjectKey, Sender] = {}
        try:
            for rollout in store.list(GROUP, FLEET_ROLLOUT):
                self._seen[ObjectKey.of(rollout)] = _last_seq(rollout)
            self._baseline = True
        except FleetcError as exc:
            log.info("notifications: no rollouts listed yet (%s); entries before now count as sent", exc)
        store.watch_shared(self._on_event)

    def _on_event(self, event: Event) -> None:
        key = event.key
        if (key.group, key.kind) != (GROUP, FLEET_ROLLOUT) or event.type == "DELETED":
            return
        if self._only is not None and key != self._only:
            return
        spec = event.object.get("spec") or {}
        status = event.object.get("status") or {}
        entries = status.get("timeline") or []
        last = self._seen.get(key)
        if last is None and self._baseline:
            last = 0  # created after this notifier started: every entry is new
        self._seen[key] = max(_last_seq(event.object), last or 0)
        if not spec.get("notifications") or (self._elsewhere is not None and self._elsewhere(key)):
            return
        policy = NotificationPolicy.model_validate(spec["notifications"])
        for entry in entries:
            seq = int(entry.get("seq", 0))
            if (last is not None and seq <= last) or (last is None and _seconds(entry.get("time")) < self._since):
                continue
            self._queue(key, policy, _notification(event.object, entry))

    def _queue(self, key: ObjectKey, policy: NotificationPolicy, note: Notification) -> None:
        receivers = [r for r in policy.receivers if note.event in r.events]
        if not receivers:
            return
        sender = self.senders.get(key)
        if sender is None or sender.policy != policy:
            sender = self.senders[key] = Sender(policy, self._resolve, **self._sender_options)
        for receiver in receivers:
            sender.submit(Delivery(receiver, note, key.namespace))

    def close(self, wait: float | None = None) -> Report:
        """Close every sender (each gets ``wait``, default its policy's timeout) and merge their reports."""
        total = Report()
        for sender in self.senders.values():
            report = sender.close(float(sender.policy.timeout) if wait is None else wait)
            total.sent += report.sent
            total.failures += report.failures
            total.dropped += report.dropped
            total.pending += report.pending
        return total


def _notification(rollout: Manifest, entry: Manifest) -> Notification:
    status = rollout.get("status") or {}
    return Notification(
        event=str(entry.get("type", "")),
        fleet=rollout["metadata"]["name"],
        namespace=rollout["metadata"]["namespace"],
        revision=str(rollout.get("spec", {}).get("revision", "")),
        phase=str(status.get("phase", "")),
        wave=str(entry.get("wave", "")),
        message=str(entry.get("message", "")),
        time=str(entry.get("time", "")),
        seq=int(entry.get("seq", 0)),
    )


def _last_seq(rollout: Manifest) -> int:
    entries = (rollout.get("status") or {}).get("timeline") or []
    return max([int(e.get("seq", 0)) for e in entries], default=0)


def _seconds(stamp: Any) -> float:
    try:
        return parse_timestamp(str(stamp))
    except (TypeError, ValueError):
        return 0.0
