"""``fleetc controller run``: the FleetRollout controller as a long-running process on a real management cluster.

The composition mirrors the embedded plane's (:mod:`fleetc.engine.local`): a :class:`~fleetc.runtime.manager.Manager`
over a :class:`~fleetc.runtime.kube.KubeStore`, a real clock, and ``rollout.install(manager, apply)`` where ``apply`` is
a server-side apply as field manager ``fleetc``. Around it, what a controller in a cluster needs:

- leader election on a Lease (:mod:`fleetc.engine.leader`): every replica campaigns, only the leader starts informers
  and reconciles; a leader that cannot renew stops acting and exits 1 (the Deployment restarts it as a standby);
- SIGTERM (or SIGINT) stops the loop, releases the Lease (a standby takes over at once) and exits 0;
- ``/healthz`` (the process is alive) and ``/readyz`` (the API server answers; a leader also has its caches synced)
  on ``--health-addr``;
- logs as text or, with ``--log-format json``, one JSON object per line;
- Kubernetes Events for every entry of a rollout's timeline and of its clusters' events (:class:`EventRecorder`),
  on the FleetRollout or the ClusterRollout, with the reason as the event reason and a message naming the cluster
  (a halt's names the object and condition too); the FleetRollout's conditions are written by the controller itself
  (:mod:`fleetc.rollout.conditions`);
- the fleet's notifications (halt, wave complete, approval needed, complete) to its receivers, from a background
  sender (:mod:`fleetc.engine.notify`; URLs from the controller's env or Secrets in the rollout's namespace).
Caller: :mod:`fleetc.cli.controller_cmd`; tests run it as a subprocess.
"""

from __future__ import annotations

import builtins
import json
import logging
import os
import signal
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from fleetc import rollout
from fleetc.contract.timestamps import parse_timestamp
from fleetc.core.errors import AlreadyExists, FleetcError, StoreError, TerminalError
from fleetc.core.keys import Manifest, ObjectKey
from fleetc.engine.kube import secret_reader
from fleetc.engine.leader import ElectionConfig, LeaderElector, ServerReads
from fleetc.engine.notify import Notifier, secret_resolver
from fleetc.engine.runner import RunnerClaims
from fleetc.rollout.applying import Apply
from fleetc.rollout.controller import RESYNC_SECONDS, VERDICT_KIND
from fleetc.rollout.model import API_VERSION, CLUSTER_ROLLOUT, FLEET_ROLLOUT, GROUP
from fleetc.runtime.clock import RealClock
from fleetc.runtime.kube import KubeStore, connect
from fleetc.runtime.manager import Manager
from fleetc.runtime.store import Event, Store

COMPONENT = "fleetc-controller"
LOOP_SECONDS = 0.5
"""The longest the loop runs reconciles before it checks for a stop, a lost lease and events to send."""
WARNING_EVENTS = frozenset({"ClusterFailed", "Halted"})
MESSAGE_LIMIT = 1024

log = logging.getLogger("fleetc.controller")


@dataclass(frozen=True)
class ControllerOptions:
    """What ``fleetc controller run`` was asked to do."""

    kubeconfig: Path | None = None
    context: str | None = None
    namespace: str = "fleetc-system"
    """The controller's own namespace: where its Lease is."""
    lease_name: str = COMPONENT
    identity: str = ""
    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0
    health_addr: str = ":8081"
    impersonate: str | None = None
    """Act as this user (tests run the controller as its ServiceAccount this way)."""

    def election(self) -> ElectionConfig:
        """The leader election settings."""
        return ElectionConfig(self.namespace, self.lease_name, self.identity or default_identity(),
                              self.lease_duration, self.renew_deadline, self.retry_period)  # fmt: skip


def default_identity() -> str:
    """``POD_NAME`` in a pod, else ``<host>_<random>`` (client-go's convention)."""
    return os.environ.get("POD_NAME") or f"{socket.gethostname()}_{uuid.uuid4().hex[:8]}"


# --- logs ------------------------------------------------------------------------------------------------------------


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and any ``extra={"fields": {...}}``."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, sort_keys=False)


def configure_logging(log_format: str, level: int = logging.INFO) -> None:
    """Log to stderr as text or JSON (UTC times)."""
    handler = logging.StreamHandler()
    formatter: logging.Formatter
    if log_format == "json":
        formatter = JsonFormatter()
    else:
        formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    root = logging.getLogger("fleetc")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


# --- health ----------------------------------------------------------------------------------------------------------


class Health:
    """The answers of /healthz and /readyz."""

    def __init__(self, elector: LeaderElector) -> None:
        self.elector = elector
        self.synced = False
        """Set by a leader once its informers listed everything."""

    def live(self) -> tuple[bool, str]:
        """Alive: always, while the process serves (a dead loop ends the process)."""
        return True, "ok"

    def ready(self) -> tuple[bool, str]:
        """Ready: the API server answered the elector lately, and a leader's caches are synced."""
        if not self.elector.reachable():
            return False, "the API server has not answered the leader election lately"
        if self.elector.is_leader() and not self.synced:
            return False, "leader, caches not synced yet"
        return True, "leader" if self.elector.is_leader() else "standby"


def parse_addr(addr: str) -> tuple[str, int]:
    """``HOST:PORT`` or ``:PORT`` (all interfaces)."""
    host, _, port = addr.rpartition(":")
    if not port.isdigit():
        raise ValueError(f"health address {addr!r}: expected HOST:PORT or :PORT")
    return host or "0.0.0.0", int(port)


def serve_health(addr: str, health: Health) -> ThreadingHTTPServer:
    """Start serving /healthz and /readyz on a daemon thread."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            checks = {"/healthz": health.live, "/readyz": health.ready, "/livez": health.live}
            check = checks.get(self.path.split("?")[0])
            ok, text = check() if check else (False, "not found")
            self.send_response(200 if ok else 404 if check is None else 503)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(text.encode() + b"\n")

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(parse_addr(addr), Handler)
    threading.Thread(target=server.serve_forever, name="health", daemon=True).start()
    return server


# --- events ----------------------------------------------------------------------------------------------------------


class EventRecorder:
    """Turns new timeline entries of FleetRollouts and ClusterRollouts into Kubernetes Events.

    Entries carry a sequence number unique within their rollout, so each Event's name is ``<object>.<seq>``: a new
    leader that sends an Event its predecessor already sent gets AlreadyExists and moves on. On start, entries older
    than ``since`` are taken as already reported (a leader that died may have missed the newest few)."""

    def __init__(self, store: Store, identity: str, since: float) -> None:
        self._store, self._identity, self._since = store, identity, since
        self._seen: dict[ObjectKey, int] = {}
        self._pending: list[Manifest] = []
        self.sent = 0
        store.watch_shared(self._on_event)

    def _on_event(self, event: Event) -> None:
        key = event.key
        if key.group != GROUP or key.kind not in (FLEET_ROLLOUT, CLUSTER_ROLLOUT):
            return
        if event.type == "DELETED":
            self._seen.pop(key, None)
            return
        status = event.object.get("status") or {}
        entries = status.get("timeline" if key.kind == FLEET_ROLLOUT else "events") or []
        last = self._seen.get(key)
        for entry in entries:
            seq = int(entry.get("seq", 0))
            if last is not None and seq <= last:
                continue
            if last is None and _seconds(entry.get("time")) < self._since:
                continue
            self._pending.append(self._event(event.object, entry))
        self._seen[key] = max([int(e.get("seq", 0)) for e in entries], default=last or 0)

    def _event(self, obj: Manifest, entry: Manifest) -> Manifest:
        metadata = obj["metadata"]
        reason = str(entry.get("type", "Unknown"))
        words = [f"wave {entry['wave']}" if entry.get("wave") else "", str(entry.get("message", ""))]
        if entry.get("cluster"):
            words.insert(0, f"cluster {entry['cluster']}")
        message = ": ".join(w for w in words if w) or reason
        return {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": f"{metadata['name']}.{int(entry.get('seq', 0))}", "namespace": metadata["namespace"]},
            "involvedObject": {
                "apiVersion": API_VERSION,
                "kind": obj["kind"],
                "name": metadata["name"],
                "namespace": metadata["namespace"],
                "uid": metadata.get("uid", ""),
                "resourceVersion": metadata.get("resourceVersion", ""),
            },
            "reason": reason,
            "message": message[:MESSAGE_LIMIT],
            "type": "Warning" if reason in WARNING_EVENTS else "Normal",
            "source": {"component": COMPONENT},
            "reportingComponent": f"{GROUP}/controller",
            "reportingInstance": self._identity,
            "firstTimestamp": entry.get("time"),
            "lastTimestamp": entry.get("time"),
            "count": 1,
        }

    def flush(self) -> None:
        """Send the Events waiting (an Event that exists already was sent by an earlier leader)."""
        pending, self._pending = self._pending, []
        for event in pending:
            try:
                self._store.create(event)
            except AlreadyExists:
                continue
            except FleetcError as exc:
                log.warning("event %s not recorded: %s", event["metadata"]["name"], exc)
                continue
            self.sent += 1
            involved = event["involvedObject"]
            log.info(
                "%s %s/%s: %s", event["reason"], involved["kind"], involved["name"], event["message"],
                extra={"fields": {"reason": event["reason"], "object": f"{involved['kind']}/{involved['name']}",
                                  "namespace": involved["namespace"]}},
            )  # fmt: skip


def _seconds(stamp: Any) -> float:
    try:
        return parse_timestamp(str(stamp))
    except (TypeError, ValueError):
        return 0.0


# --- the process -----------------------------------------------------------------------------------------------------


class ControllerStore(KubeStore):
    """A KubeStore that knows the rollout controller's queue-only kind (``ClusterVerdict``: keys for its verdict
    checks, never objects) is not served: the manager's ``inform`` and ``list`` of it do nothing."""

    def inform(self, group: str, kind: str, *, since: str | None = None) -> None:
        if (group, kind) != (GROUP, VERDICT_KIND):
            super().inform(group, kind, since=since)

    def list(
        self, group: str, kind: str, namespace: str | None = None, labels: dict[str, str] | None = None
    ) -> builtins.list[Manifest]:
        if (group, kind) == (GROUP, VERDICT_KIND):
            return []
        return super().list(group, kind, namespace, labels)


def kube_applier(store: KubeStore) -> Apply:
    """Server-side apply as field manager ``fleetc``, taking over fields another manager set (the controller is the
    authority for the fields it applies). A request the server rejects as invalid fails the cluster for good."""

    def apply(manifest: Manifest) -> None:
        try:
            store.apply(manifest, force=True)
        except StoreError as exc:
            if type(exc) is StoreError:  # 400/422: the server refused the object itself; retrying will not help
                raise TerminalError(str(exc)) from exc
            raise

    return apply


@dataclass
class ControllerRun:
    """A running controller process's parts (for tests and the CLI)."""

    options: ControllerOptions
    stop: threading.Event
    elector: LeaderElector
    health: Health
    server: ThreadingHTTPServer
    store: KubeStore | None = None
    manager: Manager | None = None
    recorder: EventRecorder | None = None
    notifier: Notifier | None = None


def run_controller(options: ControllerOptions, stop: threading.Event | None = None) -> int:
    """Campaign, and while leading reconcile FleetRollouts; 0 after SIGTERM, 1 when the Lease was lost."""
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
    config = options.election()
    timeout = max(1.0, options.renew_deadline / 2)
    lease_store = connect(options.kubeconfig, options.context, impersonate=options.impersonate,
                          read_timeout=timeout, retries=1)  # fmt: skip
    elector = LeaderElector(ServerReads(lease_store), config)
    health = Health(elector)
    server = serve_health(options.health_addr, health)
    host, port = server.server_address[:2]
    log.info(
        "fleetc controller %s starting; lease %s/%s; health on http://%s:%s",
        config.identity, config.namespace, config.name, host, port,
        extra={"fields": {"identity": config.identity, "healthPort": port}},
    )  # fmt: skip
    elector.start()
    run = ControllerRun(options, stop, elector, health, server)
    try:
        if not elector.wait_for_leadership(stop):
            log.info("stopping (never led)")
            elector.stop()
            return 0
        log.info("leading: starting the rollout controller", extra={"fields": {"identity": config.identity}})
        return _lead(run)
    finally:
        server.shutdown()
        lease_store.close()


def _lead(run: ControllerRun) -> int:
    options, elector = run.options, run.elector
    clock = RealClock()
    api = connect(options.kubeconfig, options.context, impersonate=options.impersonate).api
    store = run.store = ControllerStore(api)
    manager = run.manager = Manager(store, clock)
    since = clock.now() - 2 * options.lease_duration
    run.recorder = recorder = EventRecorder(store, elector.config.identity, since)
    claims = RunnerClaims(ServerReads(store), elector.config.identity)  # a pipeline's apply runs its own rollout
    run.notifier = notifier = Notifier(store, secret_resolver(secret_reader(store)), since,
                                       elsewhere=claims.holds_elsewhere)  # fmt: skip
    try:
        rollout.install(manager, kube_applier(store), resync=RESYNC_SECONDS, defer=claims.elsewhere)
        run.health.synced = True
        reported = 0
        while not run.stop.is_set():
            if not elector.is_leader():
                log.error("lost the lease: stopping at once (another replica may be leading)")
                return 1
            manager.run(lambda: run.stop.is_set() or not elector.is_leader(), deadline=clock.now() + LOOP_SECONDS)
            recorder.flush()
            for _, controller, key, error in manager.errors[reported:]:
                log.warning("reconcile of %s by %s failed (retried): %s", key, controller, error)
            reported = len(manager.errors)
        log.info("stopping: releasing the lease")
        elector.release()
        return 0
    finally:
        notifier.close(wait=1.0)
        store.close()
