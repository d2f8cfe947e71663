"""Staged rollouts: waves, gates read from CAPI v1beta2 status, deadlines, soaks, failure budgets and halting.

The public API (what the CLI calls)::

    plan = plan_rollout(compile_fleet(fleet))          # model: the FleetRollout, ClusterRollouts, FleetRevision
    install(manager, apply)                             # controller (+ its verdict checks) on a Manager; apply:
                                                        #   Manifest -> None, e.g. lambda m: apply_objects(store, [m])
    key = submit(store, plan)                           # control: create or update the rollout objects (idempotent)
    manager.run(lambda: settled(store, key))
    view = read_rollout(store, key)                     # phase, waves, clusters, timeline; view.halted → exit 3
    pause(store, key); resume(store, key)               # resume also retries the current wave's failed clusters

Modules: ``gates`` (pure health verdicts of one cluster), ``model`` (the rollout kinds as typed models),
``desired`` (the plan and the objects built from it), ``entries`` (typed views of stored ClusterRollouts),
``cache`` (the controller's informer), ``watching`` (what the controller remembers between reconciles),
``applying`` (create-or-merge appliers), ``controller`` (the reconcilers) with its ``scope`` and stages
(``reconcile_revision``, ``reconcile_clusters``, ``reconcile_waves``), ``wavegates`` (the wave-level rules the
stages consult), ``control`` (CLI operations).
"""

from fleetc.rollout.applying import Apply, store_applier
from fleetc.rollout.control import (
    ClusterView,
    RolloutView,
    approve,
    cluster_objects,
    cluster_verdict,
    pause,
    read_rollout,
    resume,
    settled,
    submit,
)
from fleetc.rollout.controller import NAME, RolloutController, install
from fleetc.rollout.desired import RolloutPlan, plan_rollout, revision_id, rollout_key
from fleetc.rollout.gates import ClusterObjects, Finding, Health, Target, Verdict, evaluate
from fleetc.rollout.model import Approval, ClusterState, Event, Phase, WaveSpec

__all__ = [
    "NAME",
    "Apply",
    "Approval",
    "ClusterObjects",
    "ClusterState",
    "ClusterView",
    "Event",
    "Finding",
    "Health",
    "Phase",
    "RolloutController",
    "RolloutPlan",
    "RolloutView",
    "Target",
    "Verdict",
    "WaveSpec",
    "approve",
    "cluster_objects",
    "cluster_verdict",
    "evaluate",
    "install",
    "pause",
    "plan_rollout",
    "read_rollout",
    "resume",
    "revision_id",
    "rollout_key",
    "settled",
    "store_applier",
    "submit",
]
