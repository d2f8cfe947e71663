"""ClusterSet mistakes: matrix, exclude and placeholder problems, and errors inside the generated clusters.

Errors of generated clusters point at the template's lines and name the matrix item; the same error in many
items is folded into one diagnostic whose context ends ", and N more items". A matrix over 50,000 clusters is refused.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.builders import FleetBuilder, assert_valid, at, cluster_set_doc, only, position


def _template(**spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "lab-${lab}", "labels": {"ring": "broad"}},
        "spec": {"class": "standard", "provider": "local", **spec},
    }


def _set(matrix: dict[str, Any], template: dict[str, Any] | None = None, **spec: Any) -> FleetBuilder:
    return FleetBuilder.minimal().add("sets.yaml", cluster_set_doc("labs", matrix, template or _template(), **spec))


def test_unknown_placeholder_gets_did_you_mean_at_the_template_string() -> None:
    fleet = _set({"lab": ["a"]}, _template(namespace="ns-${lb}"))
    diagnostic = only(fleet.validate(), field="spec.template.spec.namespace")
    assert diagnostic.message == "placeholder ${lb} names no matrix parameter (did you mean 'lab'?)"
    assert at(diagnostic) == ("fleet/sets.yaml", *position(fleet.text("sets.yaml"), "namespace: ns-${lb}", value=True))


def test_unknown_placeholder_key_names_the_value_missing_it() -> None:
    fleet = _set({"lab": [{"name": "a", "ns": "x"}, {"name": "b"}]}, _template(namespace="${lab.ns}"))
    diagnostic = only(fleet.validate(), field="spec.template.spec.namespace")
    assert diagnostic.message == "placeholder ${lab.ns}: value 'b' has no key 'ns'"


def test_key_placeholder_of_a_plain_value_is_reported() -> None:
    fleet = _set({"lab": ["a"]}, _template(namespace="${lab.ns}"))
    assert only(fleet.validate(), field="spec.template.spec.namespace").message == (
        "placeholder ${lab.ns}: value 'a' has no key 'ns'"
    )


@pytest.mark.parametrize("written", ["ns-${lab", "ns-${1lab}", "ns-${}"])
def test_malformed_placeholder_is_reported(written: str) -> None:
    fleet = _set({"lab": ["a"]}, _template(namespace=written))
    diagnostic = only(fleet.validate(), field="spec.template.spec.namespace")
    assert diagnostic.message == f"'{written}' has a malformed placeholder; write ${{param}} or ${{param.key}}"


def test_unknown_exclude_key_gets_did_you_mean_at_the_key() -> None:
    fleet = _set({"lab": ["a", "b"]}, exclude=[{"lb": "a"}])
    diagnostic = only(fleet.validate(), field="spec.exclude[0].lb")
    assert diagnostic.message == "'lb' is not a matrix parameter (did you mean 'lab'?)"
    assert at(diagnostic) == ("fleet/sets.yaml", *position(fleet.text("sets.yaml"), "lb: a"))


@pytest.mark.parametrize(
    ("matrix", "field", "message"),
    [
        pytest.param({"lab": ["a", "a"]}, "spec.matrix.lab", "value 'a' is listed twice", id="duplicate-value"),
        pytest.param(
            {"lab": [{"name": "a"}, {"name": "a", "x": "1"}]},
            "spec.matrix.lab",
            "value 'a' is listed twice",
            id="duplicate-name",
        ),
        pytest.param({"lab": []}, "spec.matrix.lab", "a parameter needs at least one value", id="no-values"),
        pytest.param(
            {"lab": ["a"], "lab-x": ["b"]},
            "spec.matrix.lab-x",
            "'lab-x' is not a parameter name (letters, digits, _)",
            id="bad-parameter-name",
        ),
    ],
)
def test_matrix_problems_are_reported(matrix: dict[str, Any], field: str, message: str) -> None:
    assert only(_set(matrix).validate(), field=field).message == message


def test_map_value_without_a_name_is_a_diagnostic_not_a_crash() -> None:
    fleet = _set({"lab": [{"name": "a"}, {"site": "b"}]})
    diagnostic = only(fleet.validate(), field="spec.matrix.lab[1]")
    assert diagnostic.message == "a map value needs a 'name' key"


def test_matrix_over_the_cap_is_refused_before_expanding() -> None:
    fleet = _set({"lab": [f"l{i}" for i in range(2381)], "rack": list(range(7)), "row": list(range(3))})  # 50,001
    result = fleet.validate()
    diagnostic = only(result, field="spec.matrix")
    assert diagnostic.message == "matrix expands to 50,001 clusters, over 50,000"
    assert result.fleet is not None
    assert sorted(result.fleet.clusters) == ["eu-1", "eu-2"]


def test_errors_of_generated_clusters_point_at_the_template_and_name_the_item() -> None:
    fleet = _set({"lab": ["a"]}, _template(controlPlane={"replcas": 3}))
    diagnostic = only(fleet.validate(), field="spec.template.spec.controlPlane.replcas")
    assert diagnostic.text == "unknown field 'replcas' (did you mean 'replicas'?) [ClusterSet labs: lab=a]"
    assert at(diagnostic) == ("fleet/sets.yaml", *position(fleet.text("sets.yaml"), "replcas:"))


def test_substituted_value_is_reported_at_its_placeholder() -> None:
    fleet = _set({"lab": ["a", "B"]})
    diagnostic = only(fleet.validate(), field="spec.template.metadata.name")
    assert diagnostic.message.startswith("'lab-B' is not a DNS-1123 label")
    assert diagnostic.text.endswith("[ClusterSet labs: lab=B]")
    assert at(diagnostic) == ("fleet/sets.yaml", *position(fleet.text("sets.yaml"), "name: lab-${lab}", value=True))


@pytest.mark.parametrize("count", [3, 5])
def test_the_same_document_error_in_many_items_is_folded(count: int) -> None:
    labs = [f"l{i}" for i in range(count)]
    fleet = _set({"lab": labs}, _template(controlPlane={"replcas": 3}))
    diagnostic = only(fleet.validate())
    assert diagnostic.text == (
        f"unknown field 'replcas' (did you mean 'replicas'?) [ClusterSet labs: lab=l0, and {count - 1} more items]"
    )


def test_one_more_item_is_singular() -> None:
    fleet = _set({"lab": ["a", "b"]}, _template(controlPlane={"replcas": 3}))
    assert only(fleet.validate()).text.endswith("[ClusterSet labs: lab=a, and 1 more item]")


@pytest.mark.parametrize(
    ("spec", "template_name", "fragment"),
    [
        pytest.param({"class": "standrd"}, "lab-${lab}", "no ClusterClass 'standrd'", id="reference"),
        pytest.param({"controlPlane": {"replicas": 2}}, "lab-${lab}", "must be odd", id="control-plane"),
        pytest.param(
            {"provider": "aws-eu", "workers": {"general": {"size": "huge"}}}, "lab-${lab}", "not mapped", id="size"
        ),
        pytest.param({}, "lab", "is already defined", id="name-without-a-parameter"),
    ],
)
def test_the_same_fleet_rule_error_in_many_items_is_folded(
    spec: dict[str, Any], template_name: str, fragment: str
) -> None:
    """Cross-document rules on generated clusters fold like document errors: one line, not one per item."""
    template = _template(**spec)
    template["metadata"]["name"] = template_name
    result = _set({"lab": ["a", "b", "c", "d"]}, template).validate()
    found = [d for d in result.diagnostics if fragment in d.message]
    assert len(found) == 1, "\n".join(map(str, found))
    assert found[0].text.endswith("more items]")
    assert found[0].location.path == "fleet/sets.yaml"


def test_valid_cluster_set_has_no_diagnostics() -> None:
    assert_valid(_set({"lab": ["a", "b"]}, _template(channel="rapid")).validate())
