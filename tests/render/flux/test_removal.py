"""What Flux does with a cluster that leaves the spec: orphan it, unless it was marked ``decommission: true``.

Flux deletes an object that left a pruning Kustomization's inventory unless the live object carries
``kustomize.toolkit.fluxcd.io/prune: disabled``. The wave Kustomizations prune; every rendered Cluster carries the
opt-out, except one marked for decommissioning, which carries ``enabled`` and ``fleetc.io/decommission``.
"""

from __future__ import annotations

from typing import Any

from fleetc.contract.objects import is_capi_cluster
from fleetc.render.compile import compile_fleet
from fleetc.render.flux import PRUNE_ANNOTATION, FluxOptions, flux_objects
from fleetc.render.names import DECOMMISSION_ANNOTATION
from tests.builders import FleetBuilder, assert_valid


def _compiled(builder: FleetBuilder) -> dict[str, dict[str, Any]]:
    result = builder.validate()
    assert_valid(result)
    assert result.fleet is not None
    rendered = compile_fleet(result.fleet)
    return {m["metadata"]["name"]: m for m in rendered.manifests() if is_capi_cluster(m)}


def test_every_cluster_opts_out_of_pruning_so_removing_it_orphans_it() -> None:
    clusters = _compiled(FleetBuilder.minimal())

    assert {name: c["metadata"]["annotations"].get(PRUNE_ANNOTATION) for name, c in clusters.items()} == {
        "eu-1": "disabled",
        "eu-2": "disabled",
    }
    assert all(DECOMMISSION_ANNOTATION not in c["metadata"]["annotations"] for c in clusters.values())


def test_a_cluster_marked_for_decommissioning_may_be_pruned_and_says_so() -> None:
    clusters = _compiled(FleetBuilder.minimal().set("Cluster", "eu-2", "spec.decommission", True))

    annotations = clusters["eu-2"]["metadata"]["annotations"]
    assert (annotations[PRUNE_ANNOTATION], annotations[DECOMMISSION_ANNOTATION]) == ("enabled", "true")
    assert clusters["eu-1"]["metadata"]["annotations"][PRUNE_ANNOTATION] == "disabled"


def test_the_marked_cluster_stays_in_its_wave_until_its_entry_is_removed() -> None:
    # Flux decides on the live object: the mark must be applied (cluster still in the wave) before removal prunes it.
    result = FleetBuilder.minimal().set("Cluster", "eu-2", "spec.decommission", True).validate()
    assert result.fleet is not None
    waves = flux_objects(compile_fleet(result.fleet), FluxOptions(path="./out"))[1:-1]
    checked = [c["name"] for w in waves for c in w["spec"]["healthChecks"]]
    assert sorted(checked) == ["eu-1", "eu-2"]
    assert all(w["spec"]["prune"] is True for w in waves)
