"""The CAPI stack itself: its webhooks judge objects and its CRDs convert between versions through the managers."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.upstream.apiserver import KubectlError
from tests.upstream.capi_stack import Session


def test_capi_webhooks_reject_what_only_a_webhook_checks(capi: Session, kube_namespace: str) -> None:
    # nodeStartupTimeout >= 30 s is not in the CRD schema: only CAPI core's MachineHealthCheck webhook says no.
    mhc: dict[str, Any] = {
        "apiVersion": "cluster.x-k8s.io/v1beta2",
        "kind": "MachineHealthCheck",
        "metadata": {"name": "m", "namespace": kube_namespace},
        "spec": {
            "clusterName": "c",
            "selector": {"matchLabels": {"a": "b"}},
            "checks": {"nodeStartupTimeoutSeconds": 10},
        },
    }
    with pytest.raises(KubectlError, match="nodeStartupTimeoutSeconds: Invalid value: 10: must be at least 30s"):
        capi.api.kubectl("apply", "--server-side", "--dry-run=server", "-f", "-", input=json.dumps(mhc))
    mhc["spec"]["checks"]["nodeStartupTimeoutSeconds"] = 30
    capi.api.kubectl("apply", "--server-side", "--dry-run=server", "-f", "-", input=json.dumps(mhc))


def test_a_v1beta1_read_goes_through_the_core_conversion_webhook(capi: Session, kube_namespace: str) -> None:
    mhc: dict[str, Any] = {
        "apiVersion": "cluster.x-k8s.io/v1beta2",
        "kind": "MachineHealthCheck",
        "metadata": {"name": "m", "namespace": kube_namespace},
        "spec": {
            "clusterName": "c",
            "selector": {"matchLabels": {"a": "b"}},
            "checks": {"nodeStartupTimeoutSeconds": 90},
        },
    }
    capi.api.kubectl("apply", "--server-side", "-f", "-", input=json.dumps(mhc))
    old = json.loads(
        capi.api.kubectl(
            "get", "machinehealthchecks.v1beta1.cluster.x-k8s.io", "m", "-n", kube_namespace, "-o", "json"
        ).stdout
    )
    assert old["apiVersion"] == "cluster.x-k8s.io/v1beta1"
    assert old["spec"]["nodeStartupTimeout"] == "1m30s"  # v1beta1 spells the duration; only the webhook converts it
