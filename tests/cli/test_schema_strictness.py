"""``fleetc schema`` is as strict as ``fleetc validate`` wherever JSON Schema can say the rule.

Each case breaks one document of the example fleet. ``fleetc validate`` (on the whole fleet, in memory) must reject
it with the message named; the schema must reject it too when the rule is expressible in JSON Schema, and — so this
table stays the true list of what needs ``fleetc validate`` (docs/output.md) — must accept it when it is not.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from fleetc.cli.main import cli
from fleetc.load.sources import MemoryTree
from fleetc.schema.export import RULES, json_schema
from fleetc.schema.types import check_label_key
from fleetc.schema.validate import validate_tree
from tests.cli.conftest import EXAMPLE_FLEET
from tests.cli.yaml12 import Yaml12Loader

FILES = {p.relative_to(EXAMPLE_FLEET).as_posix(): p.read_bytes() for p in EXAMPLE_FLEET.rglob("*") if p.is_file()}
Change = tuple[tuple[str | int, ...], Any]  # a path in the document and its new value (None deletes the key)


def _broken(kind: str, name: str, *changes: Change) -> tuple[MemoryTree, dict[str, Any]]:
    """The example fleet with one document changed, and that document."""
    for path, text in FILES.items():
        if not path.endswith(".yaml") or path.startswith("addons/"):
            continue
        documents = list(yaml.load_all(text, Loader=Yaml12Loader))
        for index, document in enumerate(documents):
            if document["kind"] == kind and document["metadata"]["name"] == name:
                changed = copy.deepcopy(document)
                for where, value in changes:
                    *parents, last = where
                    target: Any = changed
                    for step in parents:
                        target = target.setdefault(step, {}) if isinstance(step, str) else target[step]
                    if value is None:
                        del target[last]
                    else:
                        target[last] = value
                documents[index] = changed
                files = {**FILES, path: yaml.safe_dump_all(documents, sort_keys=False).encode()}
                return MemoryTree(files), changed
    raise AssertionError(f"no {kind} {name} in the example fleet")


FLEET, CLASS, CLUSTER, PROVIDER, SET = (
    ("Fleet", "acme"),
    ("ClusterClass", "standard"),
    ("Cluster", "eu-prod-1"),
    ("Provider", "aws-eu-west-1"),
    ("ClusterSet", "stores"),
)
WAVE = ("spec", "rollout", "waves", 0)
CASES = [
    # expressible: the schema rejects what validate rejects
    (CLUSTER, [(("spec", "channel"), "stable"), (("spec", "version"), "v1.34.2")], True, "not both"),
    (CLUSTER, [(("spec", "workers", "general", "replicas"), 4)], True, "either replicas or autoscaling"),
    (CLUSTER, [(("spec", "controlPlane", "replicas"), 2.5)], True, "integer"),
    (CLUSTER, [(("spec", "controlPlane", "replicas"), True)], True, "integer"),
    (CLUSTER, [(("metadata", "labels", "-bad"), "x")], True, "not a valid Kubernetes label key"),
    (CLUSTER, [(("metadata", "labels", "a/b/c"), "x")], True, "not a valid Kubernetes label key"),
    (CLUSTER, [(("metadata", "labels", "x" * 64), "x")], True, "not a valid Kubernetes label key"),
    (CLUSTER, [(("spec", "network", "pods"), ["10.0.0.0/33"])], True, "not a CIDR block"),
    (CLUSTER, [(("spec", "network", "pods"), ["10.0.0"])], True, "not a CIDR block"),
    (CLASS, [(("spec", "workers", "general", "autoscaling"), None)], True, "either replicas or autoscaling"),
    (CLASS, [(("spec", "workers", "general", "replicas"), 3)], True, "either replicas or autoscaling"),
    (CLASS, [(("spec", "controlPlane", "replicas"), 4)], True, "must be odd"),
    (CLASS, [(("spec", "workers", "general", "nodeLabels"), {"Bad Key": "x"})], True, "label key"),
    (FLEET, [((*WAVE, "maxConcurrent"), "150%")], True, "neither a count"),
    (FLEET, [((*WAVE, "failureBudget"), "0100%")], True, "neither a count"),
    (FLEET, [((*WAVE, "maxConcurrent"), 2**31)], True, "is over 2147483647"),
    (FLEET, [(("spec", "versions", "catalogue"), ["v1.33.6", "v1.34.2", "v1.34.2", "v1.35.0"])], True, "not above"),
    (FLEET, [((*WAVE, "selector"), {"matchExpressions": [{"key": "ring", "operator": "In"}]})], True, "needs at least"),
    (
        FLEET,
        [((*WAVE, "selector"), {"matchExpressions": [{"key": "ring", "operator": "Exists", "values": ["a"]}]})],
        True,
        "takes no values",
    ),
    (PROVIDER, [(("spec", "failureDomains"), ["eu-west-1a", "eu-west-1a"])], True, "listed twice"),
    (
        PROVIDER,
        [(("spec", "credentialsRef"), {"kind": "AWSClusterControllerIdentity", "name": "x"})],
        True,
        "named 'default'",
    ),
    (SET, [(("spec", "matrix", "bad-name"), ["a"])], True, "not a parameter name"),
    (SET, [(("spec", "matrix", "extra"), [])], True, "at least one value"),
    (SET, [(("spec", "matrix", "extra"), ["a", "a"])], True, "listed twice"),
    # not expressible in JSON Schema: only fleetc validate finds these (docs/output.md lists them)
    (CLUSTER, [(("spec", "network", "pods"), ["10.0.0.1/8"])], False, "has host bits set"),
    (CLUSTER, [(("spec", "class"), "no-such-class")], False, "no-such-class"),
    (CLASS, [(("spec", "workers", "general", "autoscaling"), {"min": 5, "max": 2})], False, "greater than max"),
    (CLASS, [(("spec", "network", "services"), ["192.168.0.0/20"])], False, "overlaps"),
    (FLEET, [(("spec", "versions", "catalogue"), ["v1.35.0", "v1.34.2", "v1.33.6"])], False, "not above"),
    (FLEET, [(("spec", "rollout", "waves", 1, "name"), "canary")], False, "defined twice"),
    (FLEET, [(("spec", "versions", "channels", "stable"), "v1.30.0")], False, "not in the catalogue"),
]


def _id(case: tuple[Any, ...]) -> str:
    (kind, _), changes, expressible, _ = case
    where = ".".join(str(step) for step in changes[0][0])
    return f"{'schema' if expressible else 'validate-only'}:{kind}:{where}={changes[0][1]!r}"[:90]


@pytest.fixture(scope="module")
def schema() -> jsonschema.Draft202012Validator:
    output = CliRunner().invoke(cli, ["schema"]).stdout
    return jsonschema.Draft202012Validator(json.loads(output))


@pytest.mark.parametrize(("target", "changes", "expressible", "message"), CASES, ids=[_id(c) for c in CASES])
def test_validate_rejects_and_the_schema_too_where_it_can(
    schema: jsonschema.Draft202012Validator,
    target: tuple[str, str],
    changes: list[Change],
    expressible: bool,
    message: str,
) -> None:
    tree, document = _broken(*target, *changes)
    result = validate_tree(tree)
    errors = [str(d) for d in result.diagnostics if d.severity.value == "error"]
    assert any(message in error for error in errors), errors
    assert schema.is_valid(document) is not expressible, [e.message for e in schema.iter_errors(document)]


def test_the_unchanged_example_passes_both() -> None:
    assert validate_tree(MemoryTree(dict(FILES))).ok
    validator = jsonschema.Draft202012Validator(json_schema())
    for path, text in FILES.items():
        if path.endswith(".yaml") and not path.startswith("addons/"):
            for document in yaml.load_all(text, Loader=Yaml12Loader):
                assert validator.is_valid(document), (path, document["metadata"]["name"])


def test_every_rule_names_a_definition_of_the_schema() -> None:
    assert set(RULES) <= set(json_schema()["$defs"])


def test_the_schema_is_a_valid_draft_2020_12_schema(tmp_path: Path) -> None:
    jsonschema.Draft202012Validator.check_schema(json_schema())
    for kind in ("Cluster", "ClusterClass", "Fleet", "Provider", "ClusterSet"):
        jsonschema.Draft202012Validator.check_schema(json_schema(kind))


@pytest.mark.parametrize(
    "key",
    [
        "ring",
        "fleetc.io/ring",
        "a.b-c.d/x_y.z",
        "A9",
        "x" * 63,
        "x" * 64,
        "-a",
        "a-",
        "a/b/c",
        "Bad.io/x",
        "a b",
        "/x",
        "a./x",
        "",
        "a" * 253 + "/x",
    ],
)
def test_the_label_key_pattern_agrees_with_validate(key: str) -> None:
    document = {"apiVersion": "fleetc.io/v1alpha1", "kind": "Cluster", "metadata": {"name": "c", "labels": {key: "v"}},
                "spec": {"class": "c", "provider": "p"}}  # fmt: skip
    try:
        check_label_key(key)
        valid = True
    except ValueError:
        valid = False
    assert jsonschema.Draft202012Validator(json_schema("Cluster")).is_valid(document) is valid
