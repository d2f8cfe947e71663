"""The management-cluster side of ``fleetc apply``, ``fleetc rollout status|pause|resume|approve``, ``fleetc status``.

Chosen with ``--context`` / ``--kubeconfig`` (kubectl's rules otherwise: ``KUBECONFIG``, in-cluster); the rollout
runs through :mod:`fleetc.engine.kube`, its state in the management cluster. Callers: the commands in
:mod:`fleetc.cli.rollout_cmds`, :mod:`fleetc.cli.steer_cmds` and :mod:`fleetc.cli.status_cmd`. Exit codes:
0 complete (or submitted, or paused/resumed), 1 rejected dry run, 2 usage, 3 halted, 4 API server unreachable,
5 unfinished (paused, or it stopped progressing).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click
import yaml
from rich.console import Console

from fleetc import rollout
from fleetc.cli import rollout_reports
from fleetc.cli.output import emit, machine
from fleetc.core.errors import ExitCode, ForbiddenError, NotFound
from fleetc.core.keys import Manifest, ObjectKey
from fleetc.engine import kube as engine
from fleetc.engine import runner
from fleetc.engine.leader import ServerReads, record_of
from fleetc.engine.notify import Report
from fleetc.rollout import RolloutPlan, RolloutView
from fleetc.runtime.kube import KubeStore, connect
from fleetc.runtime.kube.config import kubeconfig_paths, merge_kubeconfigs
from fleetc.schema.model import Fleet

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Target:
    """Which management cluster: ``--kubeconfig`` and ``--context`` (both optional, as with kubectl)."""

    kubeconfig: str | None
    context: str | None

    @property
    def chosen(self) -> bool:
        """True when the command line named a management cluster."""
        return self.kubeconfig is not None or self.context is not None

    def connect(self, **options: Any) -> KubeStore:
        """A store on that API server (``options``: as :func:`fleetc.runtime.kube.connect`'s)."""
        return connect(Path(self.kubeconfig) if self.kubeconfig else None, self.context, **options)


def target_options(command: F) -> F:
    """``--kubeconfig`` and ``--context``: work on a management cluster instead of the embedded plane."""
    command = click.option("--context", help="kubeconfig context of the management cluster (as kubectl).")(command)
    return click.option(
        "--kubeconfig",
        type=click.Path(dir_okay=False),
        help="kubeconfig of the management cluster (default as kubectl: KUBECONFIG, ~/.kube/config, in-cluster).",
    )(command)


def locator(fleet: Fleet) -> engine.Locate:
    """``file:line`` of the spec document an object was compiled from: its cluster, its class, or the fleet."""
    clusters = {name: entry.origin for name, entry in fleet.clusters.items()}
    classes = sorted(fleet.classes.items(), key=lambda item: -len(item[0]))

    def where(origin: Any) -> str:
        return f"{origin.path}:{origin.node.start_mark.line + 1}"

    def locate(obj: Manifest) -> str | None:
        name = str(obj["metadata"]["name"])
        labels = obj["metadata"].get("labels", {})
        cluster = labels.get("cluster.x-k8s.io/cluster-name") or (name if obj["kind"] == "Cluster" else None)
        if cluster in clusters:
            return where(clusters[cluster])
        if obj["kind"] == "Namespace":
            return where(fleet.settings.origin)
        for class_name, entry in classes:
            if name.startswith(f"{class_name}-"):
                return where(entry.origin)
        return None

    return locate


def apply(
    target: Target,
    plan: RolloutPlan,
    fleet: Fleet,
    *,
    dry_run: bool,
    detach: bool,
    force: bool,
    label: str,
    allow_delete: bool = False,
    output: str = "text",
) -> None:
    """``fleetc apply ROOT --context C``: dry run, submit only, or roll out here until complete or halted."""
    console = rollout_reports.console(stderr=machine(output))
    store = target.connect()
    try:
        if dry_run:
            _dry_run(console, store, plan, fleet, label, output)
            return
        if engine.ensure_crds(store):
            console.print(f"installed fleetc's CRDs on {store.server}", markup=False)
        if detach:
            view = engine.submit_only(store, plan, allow_delete=allow_delete)
            console.print(
                f"submitted rollout {view.namespace}/{view.name} (revision {view.revision}) to {store.server}; "
                "the in-cluster controller carries it out (fleetc rollout status --context …)",
                markup=False,
            )
            if machine(output):
                emit(rollout_reports.result_payload([("submit", view)], 0), output, sort_keys=True)
            return
        console.print(f"applying {label} to {store.server} (FleetRollout {plan.namespace}/{plan.fleet})", markup=False)
        progress = _printer(store, plan.key, console)

        def run(plane: engine.KubePlane, claim: runner.Claim) -> None:
            engine.roll_out(plane, plan, on_step=progress, allow_delete=allow_delete, claim=claim)

        view, sent = _carried_out(target, store, plan.key, force, run, console)
    finally:
        store.close()
    _report(console, "apply", view, sent, output)


def _carried_out(
    target: Target,
    store: KubeStore,
    key: ObjectKey,
    force: bool,
    run: Callable[[engine.KubePlane, runner.Claim], None],
    console: Console,
) -> tuple[RolloutView, Report | None]:
    """Claim the rollout (:mod:`fleetc.engine.runner`: waiting while another process carries it out), then run the
    rollout controller here (``run``) with notifications on; the rollout's view and what was sent."""
    claim_store = target.connect(read_timeout=runner.RENEW_SECONDS / 2, retries=1)  # the renewals' own connection
    try:
        with runner.claimed(ServerReads(claim_store), key, on_wait=_waiting(console, key)) as claim:
            plane = engine.open_plane(store, force=force, notify=True, only=key)
            try:
                run(plane, claim)
            finally:
                sent = plane.notifier.close() if plane.notifier else None
    finally:
        claim_store.close()
    return engine.view_of(store, key), sent


def _waiting(console: Console, key: ObjectKey) -> Callable[[dict[str, Any]], None]:
    """What a runner says when another process carries its rollout out."""

    def tell(record: dict[str, Any]) -> None:
        holder = record.get("holderIdentity") or "another process"
        seconds = record.get("leaseDurationSeconds") or runner.LEASE_SECONDS
        console.print(f"rollout {key.namespace}/{key.name} is being carried out by {holder}: waiting until it "
                      f"finishes, or until its claim lapses ({seconds} s without renewal)", markup=False)  # fmt: skip

    return tell


def _report(console: Console, step: str, view: RolloutView, sent: Report | None, output: str) -> None:
    """The result of a rollout carried out here (as a document with ``-o json|yaml``), then its exit code."""
    if machine(output):
        emit(rollout_reports.result_payload([(step, view)], 0), output, sort_keys=True)
    else:
        console.print()
        rollout_reports.print_result(console, view, f"rollout {view.name}", timeline=False)
    for line in sent.lines() if sent else []:
        console.print(line, markup=False)
    exit_for(view)


def exit_for(view: RolloutView) -> None:
    """Exit 3 when the rollout halted, 5 when it is unfinished (paused, or it stopped progressing)."""
    if view.halted:
        sys.exit(ExitCode.HALTED)
    if view.unfinished:
        sys.exit(ExitCode.UNFINISHED)


def _dry_run(console: Console, store: KubeStore, plan: RolloutPlan, fleet: Fleet, label: str, output: str) -> None:
    found = engine.dry_run(store, plan, locator(fleet))
    if machine(output):
        emit(_dry_run_payload(found, store.server), output)
        if found.rejections:
            sys.exit(ExitCode.FINDINGS)
        return
    for rejection in found.rejections:
        click.echo(str(rejection))
    for note in found.unchecked:
        console.print(f"note: {note}", markup=False)
    verdict = "REJECTED" if found.rejections else "accepted"
    console.print(
        f"{label}: dry run on {store.server}: {found.checked} objects sent, {len(found.rejections)} rejections "
        f"— {verdict}",
        markup=False,
    )
    if found.rejections:
        sys.exit(ExitCode.FINDINGS)


def _dry_run_payload(found: engine.DryRun, server: str) -> dict[str, Any]:
    """The ``DryRunReport`` document."""
    return {
        "kind": "DryRunReport",
        "version": 1,
        "server": server,
        "checked": found.checked,
        "accepted": not found.rejections,
        "rejections": [
            {
                "where": r.where,
                "kind": r.key.kind,
                "namespace": r.key.namespace,
                "name": r.key.name,
                "message": r.message,
            }
            for r in found.rejections
        ],
        "unchecked": list(found.unchecked),
    }


def _printer(store: KubeStore, key: ObjectKey, console: Console) -> Callable[[], None]:
    """Each new timeline event once, as a line."""
    printed = 0

    def progress() -> None:
        nonlocal printed
        view = rollout.read_rollout(store, key)
        if view is not None:
            for line in rollout_reports.timeline_lines(view, view.timeline[printed:]):
                console.print(line, markup=False)
            printed = len(view.timeline)

    return progress


def _key(store: KubeStore, namespace: str | None, fleet: str | None) -> ObjectKey:
    if fleet is not None and namespace is not None:
        return rollout.rollout_key(fleet, namespace)
    key = engine.only_rollout(store, namespace)
    if fleet is not None and key.name != fleet:
        return rollout.rollout_key(fleet, key.namespace)
    return key


def status(target: Target, namespace: str | None, fleet: str | None) -> RolloutView:
    """``fleetc rollout status --context C``: the rollout as it is now."""
    store = target.connect()
    try:
        return engine.view_of(store, _key(store, namespace, fleet))
    finally:
        store.close()


def status_and_runner(target: Target, namespace: str | None, fleet: str | None) -> tuple[RolloutView, str | None]:
    """``fleetc rollout status --context C``: the rollout, and who carries it out now (its runner claim,
    :mod:`fleetc.engine.runner`), as status says it; None when the claim cannot be read (RBAC)."""
    store = target.connect()
    try:
        key = _key(store, namespace, fleet)
        return engine.view_of(store, key), _runner_line(store, key)
    finally:
        store.close()


def _runner_line(store: KubeStore, key: ObjectKey) -> str | None:
    try:
        lease = store.read(runner.claim_key(key))
    except NotFound:
        lease = None
    except ForbiddenError:
        return None
    return runner.runner_line(record_of(lease), time.time())


def pause(target: Target, namespace: str | None, fleet: str | None) -> None:
    """``fleetc rollout pause --context C``: set ``spec.paused``; a running apply or controller honours it."""
    store = target.connect()
    try:
        key = _key(store, namespace, fleet)
        rollout.pause(store, key)
    finally:
        store.close()
    click.echo(f"paused {key.namespace}/{key.name}: no further cluster starts until fleetc rollout resume")


def resume(
    target: Target, namespace: str | None, fleet: str | None, output: str = "text", *, detach: bool = False
) -> None:
    """``fleetc rollout resume --context C``: lift a pause or a halt, then carry the rollout out here until it
    completes or halts again, as ``fleetc apply --context`` does (exit codes as there); with ``detach``, only lift
    it: the in-cluster controller carries on."""
    console = rollout_reports.console(stderr=machine(output))
    store = target.connect()
    try:
        key = _key(store, namespace, fleet)
        rollout.resume(store, key)
        if detach:
            view = engine.view_of(store, key)
        else:
            console.print(f"resumed {key.namespace}/{key.name} on {store.server}: failed clusters of the current wave "
                          "are retried", markup=False)  # fmt: skip
            progress = _printer(store, key, console)
            view, sent = _carried_out(
                target,
                store,
                key,
                False,
                lambda plane, claim: engine.run_until_settled(plane, key, on_step=progress, claim=claim),
                console,
            )
    finally:
        store.close()
    if not detach:
        _report(console, "resume", view, sent, output)
        return
    console.print(f"resumed {key.namespace}/{key.name}: the in-cluster controller carries on (failed clusters of the "
                  "current wave are retried)", markup=False)  # fmt: skip
    if machine(output):
        emit(rollout_reports.result_payload([("resume", view)], 0), output, sort_keys=True)


def rollout_view(store: KubeStore, namespace: str | None, fleet: str | None) -> RolloutView:
    """The rollout ``fleetc status --context C`` shows (``--namespace``/``--fleet``, default: the only one)."""
    return engine.view_of(store, _key(store, namespace, fleet))


def approve(target: Target, namespace: str | None, fleet: str | None, wave: str, by: Callable[[], str]) -> None:
    """``fleetc rollout approve WAVE --context C``: record the approval in ``spec.approvals``; the controller starts
    the wave."""
    store = target.connect()
    try:
        key = _key(store, namespace, fleet)
        approval = rollout.approve(store, key, wave, by=by(), at=time.time())
    finally:
        store.close()
    click.echo(
        f"approved wave {wave} of {key.namespace}/{key.name} (revision {approval.revision}) by {approval.by} at "
        f"{approval.at}: the running fleetc apply or the in-cluster controller starts it"
    )


def kube_user(target: Target) -> str | None:
    """The user named by the kubeconfig context (as kubectl picks it); None when there is none."""
    paths = kubeconfig_paths(Path(target.kubeconfig) if target.kubeconfig else None, os.environ, Path.home())
    try:
        documents = [(path, yaml.safe_load(path.read_text()) or {}) for path in paths]
    except (OSError, yaml.YAMLError):
        return None
    merged = merge_kubeconfigs(documents)
    chosen = target.context or merged.get("current-context")
    context = next((c for c in merged["contexts"] if c.get("name") == chosen), None)
    user = (context or {}).get("context", {}).get("user")
    return str(user) if user else None
