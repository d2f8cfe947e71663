"""Delivering notifications to a receiver on loopback: the bodies, retries on 5xx, timeouts, a full queue, and
URLs that never show up in what fleetc reports."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

from fleetc.core.keys import ObjectKey
from fleetc.engine.notify import (
    BODY_VERSION,
    Delivery,
    Notification,
    Sender,
    env_resolver,
    secret_resolver,
    slack_body,
)
from fleetc.schema.notifications import NotificationPolicy
from tests.notifications.receiver import Receiver as Hook
from tests.notifications.receiver import serve

NOTE = Notification(
    event="Halted",
    fleet="acme",
    namespace="fleet-clusters",
    revision="abc123",
    phase="Halted",
    wave="canary",
    message="wave canary: 1 of 2 clusters failed",
    time="2026-01-01T00:10:00Z",
    seq=7,
)


def _policy(kind: str = "webhook", *, retries: int = 2, timeout: str = "1s", env: str = "HOOK") -> NotificationPolicy:
    receiver = {"name": "ops", "type": kind, "urlFrom": {"env": env}}
    return NotificationPolicy.model_validate({"receivers": [receiver], "retries": retries, "timeout": timeout})


def _send(hook: Hook, policy: NotificationPolicy, *, wait: float = 10.0, **options: Any) -> Sender:
    sender = Sender(policy, env_resolver({"HOOK": hook.url}), backoff=0.01, **options)
    sender.submit(Delivery(policy.receivers[0], NOTE, "fleet-clusters"))
    sender.close(wait)
    return sender


def test_a_webhook_receiver_gets_the_versioned_json_body() -> None:
    with serve(Hook()) as hook:
        sender = _send(hook, _policy())
    assert hook.bodies == [
        {
            "version": BODY_VERSION,
            "kind": "FleetRolloutNotification",
            "event": "Halted",
            "fleet": "acme",
            "namespace": "fleet-clusters",
            "revision": "abc123",
            "phase": "Halted",
            "wave": "canary",
            "message": "wave canary: 1 of 2 clusters failed",
            "time": "2026-01-01T00:10:00Z",
            "seq": 7,
        }
    ]
    assert sender.report.sent == 1 and sender.report.failures == []


def test_a_slack_receiver_gets_an_incoming_webhook_text() -> None:
    with serve(Hook()) as hook:
        _send(hook, _policy("slack"))
    assert hook.bodies == [slack_body(NOTE)]
    assert hook.bodies[0] == {
        "text": "fleetc: rollout fleet-clusters/acme wave canary: Halted: wave canary: 1 of 2 clusters failed"
    }


def test_a_receiver_that_fails_with_5xx_is_retried_until_it_answers() -> None:
    with serve(Hook(failures=2)) as hook:
        sender = _send(hook, _policy(retries=2))
    assert hook.hits == 3 and len(hook.bodies) == 1
    assert sender.report.sent == 1 and sender.report.failures == []


def test_a_receiver_that_keeps_failing_is_reported_without_its_url() -> None:
    with serve(Hook(failures=100)) as hook:
        sender = _send(hook, _policy(retries=2))
    assert hook.hits == 3
    assert sender.report.failures == ["receiver ops: Halted not delivered after 3 attempts: HTTP 500"]
    lines = "\n".join(sender.report.lines())
    assert "secret-token-path" not in lines and "127.0.0.1" not in lines
    assert lines.startswith("notifications: 0 sent, 1 not delivered")


def test_a_4xx_is_not_retried() -> None:
    with serve(Hook(failures=100, status=404)) as hook:
        sender = _send(hook, _policy(retries=3))
    assert hook.hits == 1
    assert sender.report.failures == ["receiver ops: Halted not delivered after 1 attempt: HTTP 404"]


def test_a_hanging_receiver_times_out_and_submit_never_waits_for_it() -> None:
    with serve(Hook(hang=True)) as hook:
        policy = _policy(retries=1, timeout="1s")
        sender = Sender(policy, env_resolver({"HOOK": hook.url}), backoff=0.01)
        began = time.monotonic()
        for _ in range(5):
            assert sender.submit(Delivery(policy.receivers[0], NOTE, "fleet-clusters"))
        assert time.monotonic() - began < 0.5  # queued, not sent inline (the receiver holds every request 30s)
        report = sender.close(wait=2.5)  # the first delivery: two attempts, each cut at 1s
        failures, sent, pending = list(report.failures), report.sent, report.pending
    assert failures[:1] == ["receiver ops: Halted not delivered after 2 attempts: not reachable: timed out"]
    assert sent == 0 and pending >= 3


def test_a_full_queue_drops_rather_than_blocks() -> None:
    with serve(Hook(hang=True)) as hook:
        policy = _policy(retries=0, timeout="1s")
        sender = Sender(policy, env_resolver({"HOOK": hook.url}), queue_size=2)
        results = [sender.submit(Delivery(policy.receivers[0], NOTE, "ns")) for _ in range(6)]
        report = sender.close(wait=0)
    assert results.count(False) >= 3 and report.dropped == results.count(False)
    assert "dropped (queue full)" in report.lines()[0]


def test_an_unset_environment_variable_is_reported_once_not_retried() -> None:
    policy = _policy(env="FLEETC_NOT_SET")
    sender = Sender(policy, env_resolver({}), backoff=0.01)
    for _ in range(2):
        sender.submit(Delivery(policy.receivers[0], NOTE, "ns"))
    report = sender.close(wait=5)
    assert report.failures == ["receiver ops: Halted not delivered after 1 attempt: env FLEETC_NOT_SET is not set"] * 2
    assert report.lines()[1:] == ["  receiver ops: Halted not delivered after 1 attempt: env FLEETC_NOT_SET is not set"]


def test_a_secret_reference_reads_the_url_from_the_secret_in_the_rollouts_namespace() -> None:
    with serve(Hook()) as hook:
        secret = {"data": {"url": base64.b64encode(hook.url.encode()).decode()}}
        reads: list[ObjectKey] = []

        def read(key: ObjectKey) -> dict[str, Any] | None:
            reads.append(key)
            return secret if key.name == "hooks" else None

        receiver = {"name": "ops", "urlFrom": {"secretKeyRef": {"name": "hooks", "key": "url"}}}
        policy = NotificationPolicy.model_validate({"receivers": [receiver]})
        sender = Sender(policy, secret_resolver(read, {}), backoff=0.01)
        sender.submit(Delivery(policy.receivers[0], NOTE, "fleet-clusters"))
        report = sender.close(wait=5)
    assert report.sent == 1 and json.loads(json.dumps(hook.bodies[0]))["event"] == "Halted"
    assert reads == [ObjectKey("", "Secret", "fleet-clusters", "hooks")]


def test_a_missing_secret_key_is_reported_by_name() -> None:
    receiver = {"name": "ops", "urlFrom": {"secretKeyRef": {"name": "hooks", "key": "url"}}}
    policy = NotificationPolicy.model_validate({"receivers": [receiver]})
    sender = Sender(policy, secret_resolver(lambda key: None, {}), backoff=0.01)
    sender.submit(Delivery(policy.receivers[0], NOTE, "fleet-clusters"))
    report = sender.close(wait=5)
    assert report.failures == [
        "receiver ops: Halted not delivered after 1 attempt: secret hooks/url: no such Secret key in namespace "
        "fleet-clusters"
    ]
