"""Real failing answers from the real API server, for the retry tests (``tests/kube/test_retries.py``).

- :class:`AdmissionWebhook`: a validating admission webhook served on loopback over TLS by this process, registered
  with ``failurePolicy: Fail`` for the ConfigMaps of one namespace. The test decides each answer: allow, deny with a
  4xx, fail with HTTP 500, or hold the request (past the webhook's timeout, or until released). The API server then
  answers the client itself: 500 InternalError "failed calling webhook", or the denial.
- :func:`jail`: API Priority and Fairness configuration putting one user's requests in one namespace into a priority
  level of concurrency zero that rejects instead of queuing: while one of that user's requests executes, every other
  one gets HTTP 429 with ``Retry-After``.

Both are cluster-scoped configuration: they are removed when their context ends.
"""

from __future__ import annotations

import base64
import json
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

from tests.kube.support import KubeApi
from tests.upstream import apiserver, toolchain

ALLOW, FAIL, HOLD = "allow", "fail", "hold"


@dataclass
class AdmissionWebhook:
    """What the webhook answers (the ``plan`` first, one entry per call, then ``then``), and what it was asked."""

    plan: list[str | tuple[int, str]] = field(default_factory=list)
    """Answers for the next calls: :data:`ALLOW`, :data:`FAIL` (HTTP 500), :data:`HOLD`, or (code, message) to deny."""
    then: str | tuple[int, str] = ALLOW
    calls: list[tuple[str, str]] = field(default_factory=list)
    """(object name, answer) of every call, in order."""
    hold_seconds: float = 30.0
    held: threading.Event = field(default_factory=threading.Event)
    """Set when a call is being held."""
    release: threading.Event = field(default_factory=threading.Event)
    """Set to end every hold."""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, review: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """The HTTP status and body for one AdmissionReview."""
        request = review["request"]
        name = request.get("name") or request["object"]["metadata"]["name"]
        with self._lock:
            verdict = self.plan.pop(0) if self.plan else self.then
            self.calls.append((name, verdict if isinstance(verdict, str) else f"deny {verdict[0]}"))
        if verdict == FAIL:
            return 500, {"message": "the webhook failed"}
        if verdict == HOLD:
            self.held.set()
            self.release.wait(self.hold_seconds)
        response: dict[str, Any] = {"uid": request["uid"], "allowed": not isinstance(verdict, tuple)}
        if isinstance(verdict, tuple):
            response["status"] = {"code": verdict[0], "message": verdict[1]}
        return 200, {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": response}

    def reset(self) -> None:
        """Forget the calls so far."""
        with self._lock:
            self.calls.clear()


def _serve(webhook: AdmissionWebhook, certs: apiserver.Certificates) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            review = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            status, body = webhook.answer(review)
            data = json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:  # the API server gave up waiting (a held call)
                return

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(certs.server_cert), str(certs.server_key))
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, name="admission webhook", daemon=True).start()
    return server


@contextmanager
def admission_webhook(kube_api: KubeApi, namespace: str, folder: Path, timeout_seconds: int = 10) -> Iterator[
    AdmissionWebhook
]:  # fmt: skip
    """A webhook (see the module docstring) for the ConfigMaps of ``namespace``, in force when this yields."""
    certs = apiserver.make_certificates(toolchain.tool("openssl"), folder)
    webhook = AdmissionWebhook()
    server = _serve(webhook, certs)
    name = f"{namespace}-webhook"
    configuration = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": name},
        "webhooks": [
            {
                "name": "test.fleetc.dev",
                "clientConfig": {
                    "url": f"https://127.0.0.1:{server.server_address[1]}/validate",
                    "caBundle": base64.b64encode(certs.ca.read_bytes()).decode(),
                },
                "rules": [
                    {
                        "apiGroups": [""],
                        "apiVersions": ["v1"],
                        "operations": ["CREATE", "UPDATE"],
                        "resources": ["configmaps"],
                    }
                ],
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}},
                "failurePolicy": "Fail",
                "sideEffects": "None",
                "admissionReviewVersions": ["v1"],
                "timeoutSeconds": timeout_seconds,
            }
        ],
    }
    kube_api.kubectl("apply", "-f", "-", input=yaml.safe_dump(configuration))
    try:
        _wait_until_called(kube_api, namespace, webhook)
        yield webhook
    finally:
        webhook.release.set()
        kube_api.kubectl("delete", "validatingwebhookconfiguration", name, "--ignore-not-found")
        server.shutdown()
        server.server_close()


def _wait_until_called(kube_api: KubeApi, namespace: str, webhook: AdmissionWebhook, timeout: float = 30.0) -> None:
    """The API server picks new webhook configuration up asynchronously: dry-run creates until the webhook sees one."""
    deadline = time.monotonic() + timeout
    while not webhook.calls:
        assert time.monotonic() < deadline, "the API server never called the webhook"
        kube_api.kubectl("create", "configmap", "probe", "-n", namespace, "--dry-run=server")
        time.sleep(0.2)
    webhook.reset()


def _wait_until_allowed(kube_api: KubeApi, namespace: str, user: str, timeout: float = 30.0) -> None:
    """The RBAC authorizer learns of a new binding asynchronously: ask until ``user`` may create ConfigMaps."""
    deadline = time.monotonic() + timeout
    while kube_api.kubectl("auth", "can-i", "create", "configmaps", "-n", namespace, f"--as={user}",
                           check=False).returncode != 0:  # fmt: skip
        assert time.monotonic() < deadline, f"{user} was never allowed to create ConfigMaps in {namespace}"
        time.sleep(0.2)


@contextmanager
def jail(kube_api: KubeApi, namespace: str, user: str) -> Iterator[None]:
    """``user``'s requests to resources in ``namespace`` run in a priority level of concurrency zero that rejects
    (see the module docstring); the user may edit the namespace (RBAC). In force when this yields."""
    name = f"{namespace}-jail"
    level = {
        "apiVersion": "flowcontrol.apiserver.k8s.io/v1",
        "kind": "PriorityLevelConfiguration",
        "metadata": {"name": name},
        "spec": {
            "type": "Limited",
            "limited": {
                "nominalConcurrencyShares": 0,
                "lendablePercent": 0,
                "borrowingLimitPercent": 0,
                "limitResponse": {"type": "Reject"},
            },
        },
    }
    schema = {
        "apiVersion": "flowcontrol.apiserver.k8s.io/v1",
        "kind": "FlowSchema",
        "metadata": {"name": name},
        "spec": {
            "priorityLevelConfiguration": {"name": name},
            "matchingPrecedence": 300,
            "distinguisherMethod": {"type": "ByUser"},
            "rules": [
                {
                    "subjects": [{"kind": "User", "user": {"name": user}}],
                    "resourceRules": [
                        {"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"], "namespaces": [namespace]}
                    ],
                }
            ],
        },
    }
    kube_api.kubectl("create", "role", "jailed", "--verb=*", "--resource=configmaps", "-n", namespace)
    kube_api.kubectl("create", "rolebinding", "jailed", "--role=jailed", f"--user={user}", "-n", namespace)
    kube_api.kubectl("apply", "-f", "-", input=yaml.safe_dump_all([level, schema]))
    try:
        kube_api.kubectl("wait", f"flowschema/{name}", "--for=condition=Dangling=False", "--timeout=30s")
        _wait_until_allowed(kube_api, namespace, user)
        yield
    finally:
        kube_api.kubectl("delete", f"flowschema/{name}", f"prioritylevelconfiguration/{name}", "--ignore-not-found")
