"""429 and 5xx from the real API server are retried with backoff (honouring ``Retry-After``) within a budget, then
exit 4 with the server's last answer; other 4xx answers are not retried. The failures are the API server's own:
an admission webhook that fails, hangs or denies, and API Priority and Fairness rejecting (``tests/kube/overload.py``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from fleetc.core.errors import ServerError, StoreError
from fleetc.core.keys import ObjectKey
from fleetc.runtime.kube import KubeStore, connect
from fleetc.runtime.kube.api import BACKOFF_BASE
from tests.kube.overload import ALLOW, FAIL, HOLD, AdmissionWebhook, admission_webhook, jail
from tests.kube.support import KubeApi, config_map, store_on


@pytest.fixture
def webhook(kube_api: KubeApi, kube_namespace: str, tmp_path: Path) -> Iterator[AdmissionWebhook]:
    with admission_webhook(kube_api, kube_namespace, tmp_path, timeout_seconds=1) as found:
        yield found


def _recording(store: KubeStore) -> list[float]:
    """The delays ``store`` waits between attempts (it still waits them)."""
    delays: list[float] = []

    def sleep(seconds: float) -> None:
        delays.append(seconds)
        time.sleep(seconds)

    store.api.sleep = sleep
    return delays


def test_a_failing_webhook_5xx_is_retried_with_backoff_until_the_server_recovers(
    kube_api: KubeApi, kube_namespace: str, webhook: AdmissionWebhook
) -> None:
    webhook.plan = [FAIL, FAIL]
    store = store_on(kube_api, kube_namespace)
    delays = _recording(store)
    try:
        assert store.apply(config_map(kube_namespace, x="1")) == "created"
        assert webhook.calls == [("a", FAIL), ("a", FAIL), ("a", ALLOW)]
        assert store.api.retried == 2
        # Exponential backoff with full jitter: up to BASE, then up to 2 * BASE (no Retry-After on a 500).
        assert len(delays) == 2 and delays[0] <= BACKOFF_BASE and delays[1] <= 2 * BACKOFF_BASE
        assert store.read(ObjectKey("", "ConfigMap", kube_namespace, "a"))["data"] == {"x": "1"}
    finally:
        store.close()


def test_a_webhook_that_hangs_past_its_timeout_is_retried(
    kube_api: KubeApi, kube_namespace: str, webhook: AdmissionWebhook
) -> None:
    webhook.plan, webhook.hold_seconds = [HOLD], 3.0  # the API server waits 1 s (timeoutSeconds), then answers 500
    store = store_on(kube_api, kube_namespace)
    try:
        assert store.apply(config_map(kube_namespace, x="1")) == "created"
        assert webhook.calls == [("a", HOLD), ("a", ALLOW)]
        assert store.api.retried == 1
    finally:
        store.close()


def test_a_server_failing_past_the_retry_budget_is_exit_4_with_its_last_answer(
    kube_api: KubeApi, kube_namespace: str, webhook: AdmissionWebhook
) -> None:
    webhook.then = FAIL
    store = store_on(kube_api, kube_namespace, retries=2)
    try:
        with pytest.raises(ServerError) as raised:
            store.apply(config_map(kube_namespace, x="1"))
        assert webhook.calls == [("a", FAIL)] * 3  # the first attempt and two retries
        assert raised.value.exit_code == 4
        message = str(raised.value)
        assert f"ConfigMap/{kube_namespace}/a" in message or f"{kube_namespace}/a" in message
        assert "kept failing" in message and "HTTP 500" in message and "failed calling webhook" in message
    finally:
        store.close()


def test_a_denial_4xx_is_not_retried(kube_api: KubeApi, kube_namespace: str, webhook: AdmissionWebhook) -> None:
    webhook.then = (400, "ConfigMaps named a are not welcome")
    store = store_on(kube_api, kube_namespace)
    try:
        with pytest.raises(StoreError) as raised:
            store.apply(config_map(kube_namespace, x="1"))
        assert not isinstance(raised.value, ServerError)
        assert "ConfigMaps named a are not welcome" in str(raised.value) and "HTTP 400" in str(raised.value)
        assert webhook.calls == [("a", "deny 400")]
        assert store.api.retried == 0
    finally:
        store.close()


def test_a_429_from_priority_and_fairness_waits_as_long_as_retry_after_says(
    kube_api: KubeApi, kube_namespace: str, tmp_path: Path
) -> None:
    user = f"jailed-{kube_namespace}"
    with jail(kube_api, kube_namespace, user), admission_webhook(kube_api, kube_namespace, tmp_path) as webhook:
        webhook.plan = [HOLD]  # the first request of the user occupies the level's one seat until released
        holder = connect(kube_api.kubeconfig, kube_api.context, namespace=kube_namespace, impersonate=user, retries=0)
        store = connect(kube_api.kubeconfig, kube_api.context, namespace=kube_namespace, impersonate=user)
        holding = threading.Thread(target=holder.create, args=(config_map(kube_namespace, "hold"),))
        delays: list[float] = []

        def sleep(seconds: float) -> None:
            delays.append(seconds)
            webhook.release.set()  # the held request ends: the seat is free for the retry
            time.sleep(seconds)

        store.api.sleep = sleep
        try:
            holding.start()
            assert webhook.held.wait(20), "the holding request never reached the webhook"
            assert store.apply(config_map(kube_namespace, x="1")) == "created"
            holding.join(20)
            assert store.api.retried == 1
            # APF's Retry-After is at least 1 s; the backoff alone would have been at most BACKOFF_BASE.
            assert len(delays) == 1 and delays[0] >= 1.0 > BACKOFF_BASE
            assert [name for name, _ in webhook.calls] == ["hold", "a"]  # the rejected attempt never got that far
        finally:
            webhook.release.set()
            holder.close()
            store.close()
