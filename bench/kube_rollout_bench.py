"""Controller benchmark on a real API server (issue 8 §9): requests per cluster of a rollout, and memory at scale.

Starts etcd and kube-apiserver as the test harness does (``tests/upstream``), with an audit log (level Metadata,
one line per request), installs CAPI's CRDs and ``fleetc install --print``, then:

1. **Requests**: N clusters (default 100) run ``v1.34.2`` and are rolled to ``v1.35.0`` in one wave (at most 20 at
   once) by one ``fleetc controller run`` process acting as the installed ServiceAccount; the benchmark plays CAPI
   (status fixtures, ``tests/controller/support.py``). The audit log's requests made as the ServiceAccount are
   counted by verb: requests and writes per cluster exclude the Lease renewals (a function of time, not of the
   fleet) and everything CAPI (the player) writes. Target: ≤ 20 writes per cluster.
2. **Memory**: M clusters (default 1,000) with all their CAPI objects (12 per cluster) are already at the target;
   a rollout of all of them runs to completion in a fresh controller process; its peak RSS (``VmHWM``) is read
   before it is stopped. Target: ≤ 200 MB.

Prints a Markdown table and writes it to ``bench/results/kube_rollout.md``.
Usage: ``python bench/kube_rollout_bench.py [--clusters 100] [--memory-clusters 1000]``.
"""

from __future__ import annotations

import argparse
import collections
import json
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fleetc.rollout import Phase, read_rollout, settled, submit  # noqa: E402
from tests.controller.support import (  # noqa: E402
    CapiPlayer,
    ControllerProcess,
    admin_store,
    install,
    plan,
    service_account,
)
from tests.rollout.support import NEW  # noqa: E402
from tests.upstream import apiserver, build, reference, toolchain  # noqa: E402

SYSTEM = "fleetc-system"
WRITES = {"create", "update", "patch", "delete", "deletecollection"}
POLICY = """apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: Metadata
"""


@contextmanager
def audited_api_server(workdir: Path) -> Iterator[tuple[apiserver.KubeApi, Path]]:
    """The harness's etcd + kube-apiserver, the API server also writing an audit log and compacting etcd at its
    default interval; CAPI's CRDs installed."""
    policy, log = workdir / "audit-policy.yaml", workdir / "audit.log"
    policy.write_text(POLICY)
    plain = apiserver.apiserver_command

    def with_audit(*args: Any, **kwargs: Any) -> list[str]:
        # etcd compacted at the API server's default interval (5 min), as on a management cluster: the harness's 3 s
        # (there to make 410 Gone testable) expires an informer's paginated list midway at this scale.
        kept = [arg for arg in plain(*args, **kwargs) if not arg.startswith("--etcd-compaction-interval")]
        return [*kept, f"--audit-policy-file={policy}", f"--audit-log-path={log}"]

    apiserver.apiserver_command = with_audit  # the harness builds the command through this module attribute
    kubectl, openssl = toolchain.tool("kubectl"), toolchain.tool("openssl")
    etcd, kube_apiserver = build.binary("etcd", "etcd"), build.binary("apiserver", "kube-apiserver")
    with apiserver.running(etcd, kube_apiserver, kubectl, openssl, workdir) as plane:
        plane.api.install_crds(reference.reference().crds(*reference.CAPI_CRDS))
        yield plane.api, log


def audit_counts(log: Path, user: str, namespace: str | None = None) -> collections.Counter[tuple[str, str]]:
    """(verb, resource) of every request made as ``user`` (impersonated), optionally outside the Lease's namespace."""
    counts: collections.Counter[tuple[str, str]] = collections.Counter()
    for line in log.read_text().splitlines():
        event = json.loads(line)
        if (event.get("impersonatedUser") or {}).get("username") != user:
            continue
        ref = event.get("objectRef") or {}
        resource = ref.get("resource", "") + (f"/{ref['subresource']}" if ref.get("subresource") else "")
        counts[(event["verb"], resource)] += 1
    return counts


def seeded(api: apiserver.KubeApi, namespace: str, names: list[str], at: str | None, threads: int = 4) -> CapiPlayer:
    """A player for ``names``, seeded (at ``at``, default the old version) by ``threads`` players at once."""
    players = [CapiPlayer(admin_store(api, namespace), namespace, upgrade_seconds=1.0) for _ in range(threads)]

    def seed(player: CapiPlayer, part: list[str]) -> None:
        for name in part:
            player.seed(name) if at is None else player.seed(name, at)

    workers = [threading.Thread(target=seed, args=(p, names[i::threads])) for i, p in enumerate(players)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    for other in players[1:]:
        players[0].shown.update(other.shown)
        other.store.close()
    return players[0]


def run_rollout(api: apiserver.KubeApi, namespace: str, clusters: int, at: str | None, folder: Path,
                identity: str) -> tuple[float, ControllerProcess]:  # fmt: skip
    """Seed ``clusters`` (at ``at``, default the old version), roll them to NEW; seconds taken and the process."""
    api.kubectl("create", "namespace", namespace)
    desired = plan(namespace, [("all", clusters, 20)])
    player = seeded(api, namespace, [cluster.name for cluster in desired.clusters], at)
    store = player.store
    controller = ControllerProcess.start(api, SYSTEM, identity, folder, lease=15.0,
                                         impersonate=service_account(SYSTEM))  # fmt: skip
    started = time.monotonic()
    key = submit(store, desired)
    while not settled(store, key):
        if time.monotonic() - started > 1800:
            raise RuntimeError(f"rollout of {clusters} clusters not done in 30 min; see {controller.log}")
        player.step()
        store.wait(0.5)
    taken = time.monotonic() - started
    view = read_rollout(store, key)
    assert view is not None and view.phase is Phase.COMPLETE, view
    store.close()
    return taken, controller


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident set (``VmHWM``) in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=100)
    parser.add_argument("--memory-clusters", type=int, default=1000)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="fleetc-bench-kube-"))
    rows = []
    try:
        with audited_api_server(workdir) as (api, log):
            install(api, SYSTEM)
            user = service_account(SYSTEM)
            taken, controller = run_rollout(api, "bench-requests", args.clusters, None, workdir, "requests")
            assert controller.terminate() == 0
            counts = audit_counts(log, user)
            lease = sum(n for (verb, resource), n in counts.items() if resource == "leases")
            writes = sum(n for (verb, resource), n in counts.items() if verb in WRITES and resource != "leases")
            reads = sum(n for (verb, resource), n in counts.items() if verb not in WRITES and resource != "leases")
            by_verb = ", ".join(f"{verb} {resource}: {n}" for (verb, resource), n in sorted(counts.items()))
            print(f"requests as the controller: {by_verb}")
            rows.append(("Rollout of", f"{args.clusters} clusters", f"{taken:.0f} s (1 s per simulated upgrade)"))
            rows.append(("Writes per cluster (≤ 20)", f"{writes / args.clusters:.1f}", f"{writes} writes in all"))
            rows.append(("Requests per cluster", f"{(writes + reads) / args.clusters:.1f}",
                         f"{writes + reads} in all, Lease requests not counted"))  # fmt: skip
            rows.append(("Reads (list/watch/get) in all", str(reads), "informers list once (in pages), then watch"))
            rows.append(("Lease requests", str(lease), f"get+update every 2 s for {taken:.0f} s"))
            taken, controller = run_rollout(api, "bench-memory", args.memory_clusters, NEW, workdir, "memory")
            peak = peak_rss_mb(controller.process.pid)
            assert controller.terminate() == 0
            scale = f"{args.memory_clusters} clusters, 12 CAPI objects each, rollout done in {taken:.0f} s"
            rows.append(("Controller peak RSS (≤ 200 MB)", f"{peak:.0f} MB", scale))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    table = ["| Measure | Value | Notes |", "|---|---|---|", *(f"| {a} | {b} | {c} |" for a, b, c in rows)]
    text = "\n".join(table) + "\n"
    print(text)
    out = ROOT / "bench" / "results" / "kube_rollout.md"
    out.parent.mkdir(exist_ok=True)
    command = f"python bench/kube_rollout_bench.py --clusters {args.clusters} --memory-clusters {args.memory_clusters}"
    out.write_text(f"# fleetc controller on a real API server\n\n{text}\nMeasured with `{command}`.\n")


if __name__ == "__main__":
    main()
