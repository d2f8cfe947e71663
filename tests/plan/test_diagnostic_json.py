"""One ``Diagnostic`` JSON shape (issue 11, kubectl's habits): ``validate`` and ``diff``/``plan`` write the same object.

The same broken fleet, validated by ``fleetc validate --format json`` and met as the head of ``fleetc diff
--format json``, gives the same diagnostic objects; a policy error has that shape too. The shape's schema is
:data:`fleetc.core.diagnostic_json.DIAGNOSTIC_SCHEMA`, and both report schemas use it.
"""

from __future__ import annotations

import json

import jsonschema

from fleetc.core.diagnostic_json import DIAGNOSTIC_KEYS, DIAGNOSTIC_SCHEMA
from fleetc.plan.formats.json_schema import JSON_SCHEMA
from tests.plan.support import FleetRepo, run


def _break(repo: FleetRepo) -> None:
    repo.cluster("eu-2")["spec"]["class"] = "standrd"
    repo.builder.set("ClusterClass", "standard", "spec.controlPlane.replicas", 2)
    repo.write()


def test_validate_and_diff_write_the_same_diagnostic_objects(repo: FleetRepo) -> None:
    _break(repo)

    validated = json.loads(run("validate", "fleet", "--format", "json").stdout)
    diffed = json.loads(run("diff", "fleet", "--base", "HEAD", "--format", "json").stdout)

    errors = [d for d in validated["diagnostics"] if d["severity"] == "error"]
    [failure] = diffed["failures"]
    assert len(errors) >= 2
    assert failure["diagnostics"] == errors
    for diagnostic in errors:
        assert list(diagnostic) == list(DIAGNOSTIC_KEYS)
        jsonschema.validate(diagnostic, DIAGNOSTIC_SCHEMA)
    assert (validated["version"], diffed["version"]) == (2, 3)


def test_a_policy_error_has_the_same_shape_with_its_code(repo: FleetRepo) -> None:
    repo.cluster("eu-2")["spec"]["version"] = "v1.33.6"
    repo.write()

    [policy] = json.loads(run("diff", "fleet", "--base", "HEAD", "--format", "json").stdout)["policy"]

    assert list(policy) == list(DIAGNOSTIC_KEYS)
    jsonschema.validate(policy, DIAGNOSTIC_SCHEMA)
    assert (policy["code"], policy["context"], policy["field"]) == ("version-down", "cluster eu-2", "spec.version")


def test_the_diff_report_schema_uses_the_shared_diagnostic_schema() -> None:
    properties = JSON_SCHEMA["properties"]
    assert properties["policy"]["items"] == DIAGNOSTIC_SCHEMA
    assert properties["failures"]["items"]["properties"]["diagnostics"]["items"] == DIAGNOSTIC_SCHEMA
