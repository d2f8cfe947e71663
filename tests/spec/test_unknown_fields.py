"""Strictness: an unknown field anywhere in any document is an error at its key, with "did you mean".

Secret-looking unknown fields also get the hint that credentials are only ever referenced (credentialsRef).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.builders import FleetBuilder, assert_valid, at, only, position

FILE_OF = {
    "Fleet": "fleet.yaml",
    "ClusterClass": "classes.yaml",
    "Provider": "providers.yaml",
    "Cluster": "clusters.yaml",
}

TYPOS = [
    pytest.param("Fleet", None, "spec.versions", "chainedUpgrade", True, "chainedUpgrades", id="fleet-versions"),
    pytest.param("Fleet", None, "spec", "namespce", "fleets", "namespace", id="fleet-spec"),
    pytest.param(
        "Fleet", None, ("spec", "rollout", "waves", 0, "selector"), "matchLabel", {}, "matchLabels", id="wave-selector"
    ),
    pytest.param("Fleet", None, ("spec", "rollout", "waves", 1), "soaks", "1h", "soak", id="wave"),
    pytest.param("ClusterClass", "standard", "spec.workers.general", "replcas", 3, "replicas", id="class-pool"),
    pytest.param("ClusterClass", "standard", "spec.controlPlane", "sise", "medium", "size", id="class-control-plane"),
    pytest.param("ClusterClass", "standard", "spec.network", "service", [], "services", id="class-network"),
    pytest.param("Provider", "aws-eu", "spec", "regoin", "eu-west-1", "region", id="provider-spec"),
    pytest.param("Provider", "aws-eu", "spec.settings", "sshKeyNme", "ops", "sshKeyName", id="provider-settings"),
    pytest.param("Provider", "aws-eu", "spec.credentialsRef", "nmae", "x", "name", id="provider-credentials-ref"),
    pytest.param("Cluster", "eu-1", "metadata", "label", {}, "labels", id="cluster-metadata"),
    pytest.param("Cluster", "eu-1", "spec", "chanel", "stable", "channel", id="cluster-spec"),
    pytest.param("Cluster", "eu-1", "spec.controlPlane", "replica", 3, "replicas", id="cluster-control-plane"),
    pytest.param("Cluster", "eu-1", (), "specs", {}, "spec", id="top-level"),
]


def _with_field(kind: str, name: str | None, parent: Any, key: str, value: Any) -> FleetBuilder:
    steps = parent.split(".") if isinstance(parent, str) else list(parent)
    return FleetBuilder.minimal().set(kind, name, [*steps, key], value)


def _dotted(parent: Any, key: str) -> str:
    steps = parent.split(".") if isinstance(parent, str) else list(parent)
    out = ""
    for step in [*steps, key]:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else step)
    return out


@pytest.mark.parametrize(("kind", "name", "parent", "key", "value", "suggestion"), TYPOS)
def test_unknown_field_is_reported_at_its_key_with_did_you_mean(
    kind: str, name: str | None, parent: Any, key: str, value: Any, suggestion: str
) -> None:
    fleet = _with_field(kind, name, parent, key, value)
    diagnostic = only(fleet.validate(), field=_dotted(parent, key))
    assert diagnostic.message == f"unknown field '{key}' (did you mean '{suggestion}'?)"
    text = fleet.text(FILE_OF[kind])
    assert at(diagnostic) == (f"fleet/{FILE_OF[kind]}", *position(text, f"{key}:"))


@pytest.mark.parametrize(
    ("kind", "name", "path", "value"),
    [
        pytest.param("Fleet", None, "spec.versions.chainedUpgrades", True, id="fleet-versions"),
        pytest.param("Fleet", None, "spec.namespace", "fleets", id="fleet-spec"),
        pytest.param("Fleet", None, ("spec", "rollout", "waves", 1, "soak"), "2h", id="wave"),
        pytest.param("ClusterClass", "standard", "spec.workers.general.replicas", 4, id="class-pool"),
        pytest.param("ClusterClass", "standard", "spec.network.services", ["10.96.0.0/16"], id="class-network"),
        pytest.param("Provider", "aws-eu", "spec.settings.sshKeyName", "ops", id="provider-settings"),
        pytest.param("Cluster", "eu-1", "spec.channel", "rapid", id="cluster-spec"),
        pytest.param("Cluster", "eu-1", "spec.controlPlane.replicas", 5, id="cluster-control-plane"),
    ],
)
def test_known_fields_are_accepted(kind: str, name: str | None, path: Any, value: Any) -> None:
    assert_valid(FleetBuilder.minimal().set(kind, name, path, value).validate())


def test_unknown_field_far_from_any_known_one_has_no_suggestion() -> None:
    fleet = FleetBuilder.minimal().set("Cluster", "eu-1", "spec.zzz", 1)
    assert only(fleet.validate(), field="spec.zzz").message == "unknown field 'zzz'"


@pytest.mark.parametrize(
    "key",
    ["password", "clientSecret", "apiToken", "accessKey", "private_key", "credentials", "secretAccessKey"],
)
def test_secret_looking_field_points_at_credentials_ref(key: str) -> None:
    fleet = FleetBuilder.minimal().set("Provider", "aws-eu", ["spec", key], "hunter2")
    diagnostic = only(fleet.validate(), field=f"spec.{key}")
    assert diagnostic.message.startswith(f"unknown field '{key}'")
    assert diagnostic.message.endswith("; credentials are referenced with credentialsRef, never written into the fleet")


@pytest.mark.parametrize("key", ["regoin", "sizs", "credentialsRefs"])
def test_ordinary_unknown_field_gets_no_credentials_hint(key: str) -> None:
    fleet = FleetBuilder.minimal().set("Provider", "aws-eu", ["spec", key], "x")
    assert "credentialsRef, never" not in only(fleet.validate(), field=f"spec.{key}").message


@pytest.mark.parametrize(
    ("kind", "name", "snake", "camel", "value"),
    [
        pytest.param("Cluster", "eu-1", "spec.control_plane", "controlPlane", {"replicas": 3}, id="control_plane"),
        pytest.param("Fleet", None, "spec.versions.chained_upgrades", "chainedUpgrades", True, id="chained_upgrades"),
        pytest.param("Provider", "local", "spec.failure_domains", "failureDomains", ["a"], id="failure_domains"),
    ],
)
def test_python_field_names_are_unknown_fields(kind: str, name: str | None, snake: str, camel: str, value: Any) -> None:
    """The spec is camelCase; the pydantic attribute names must not be accepted as a second spelling.

    ``fleetc schema`` rejects them (additionalProperties: false), so the validator must too.
    """
    fleet = FleetBuilder.minimal().set(kind, name, snake, value)
    key = snake.rsplit(".", 1)[1]
    assert only(fleet.validate(), field=snake).message == f"unknown field '{key}' (did you mean '{camel}'?)"
