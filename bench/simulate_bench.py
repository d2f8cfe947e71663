"""Simulate benchmark (docs/design.md §9): a full Kubernetes minor upgrade of N clusters in virtual time.

Each cluster has 3 control-plane machines and 2 worker pools of 3 machines, on the simulated in-memory
provider. A fleet at v1.34.2 is created on the embedded plane (timed separately), then upgraded to v1.35.0
wave by wave; both run in one fresh Python process per size, which reports wall seconds, reconciles, the
virtual time the rollout took, and its own peak RSS (``resource.getrusage(RUSAGE_SELF)``).

Target (issue 12): the upgrade of 1,000 clusters ≤ 30 s wall, 10,000 clusters ≤ 2 GB peak and ≤ 5 minutes.
CPU seconds are reported beside wall seconds: on a shared machine wall time measures the neighbours too.
The interpreter's build matters as much as the code (a CPython whose interpreter lives in a shared ``libpython``,
pyenv's default build, ran this 10% slower than Debian's ``python3.11``, built into the executable with
profile-guided optimisation): the line above the table names it. Prints that line and a Markdown table
and writes them to ``bench/results/simulate.md``.

With ``--workers 2`` (or more) the simulation is sharded across that many processes (``fleetc simulate --workers``,
:mod:`fleetc.engine.sharded`): the same rollout, the same reconciles. Then CPU seconds are every process's, and the
peak RSS is the sum of each process's own peak (an upper bound on what they held at once, checked against the
target), each shown beside it. Every run also shows the largest total RSS of its processes sampled every 0.2 s.

Usage: ``python bench/simulate_bench.py [--sizes 100 1000] [--workers 1 2] [--timeout 1800]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "simulate.md"
TARGETS = {1_000: (30.0, None), 10_000: (300.0, 2048.0)}
"""Issue 12's targets by fleet size: upgrade wall seconds, peak RSS MB (None: no memory target)."""
SAMPLE_SECONDS = 0.2
"""How often the benchmark samples the resident memory of the simulation's processes."""

FLEET = """apiVersion: fleetc.io/v1alpha1
kind: Fleet
metadata: {{name: bench}}
spec:
  versions: {{catalogue: [v1.34.2, v1.35.0], channels: {{stable: {version}}}}}
  defaults: {{channel: stable}}
  rollout:
    waves:
      - {{name: canary, selector: {{matchLabels: {{ring: canary}}}}, maxConcurrent: 2, soak: 10m}}
      - {{name: early, selector: {{matchLabels: {{ring: early}}}}, maxConcurrent: 25%, soak: 30m}}
      - {{name: broad, selector: {{matchLabels: {{ring: broad}}}}, maxConcurrent: 25%, failureBudget: 1%}}
---
apiVersion: fleetc.io/v1alpha1
kind: ClusterClass
metadata: {{name: bench}}
spec:
  controlPlane: {{replicas: 3, size: medium}}
  workers:
    a: {{size: medium, replicas: 3}}
    b: {{size: medium, replicas: 3}}
---
apiVersion: fleetc.io/v1alpha1
kind: Provider
metadata: {{name: sim}}
spec: {{type: dev-inmemory}}
"""

# Runs in the child: create at v1.34.2, upgrade to v1.35.0, report counters as JSON.
CHILD = """
import json, resource, sys, time
from pathlib import Path
from fleetc import rollout
from fleetc.engine import local, sharded
from fleetc.load.sources import DiskTree
from fleetc.render.compile import compile_fleet
from fleetc.schema.validate import validate_tree

def plan(root):
    result = validate_tree(DiskTree.open(root))
    assert result.ok, [str(d) for d in result.diagnostics[:3]]
    return rollout.plan_rollout(compile_fleet(result.fleet))

def cpu():
    if shards is None:
        return time.process_time()
    return sum(usage.cpu_seconds for usage in shards.usage())

root, workers = Path(sys.argv[1]), int(sys.argv[2])
shards = sharded.open_sharded(workers, seed=0) if workers > 1 else None
plane = local.open_plane(seed=0) if shards is None else None
reconciles = (lambda: plane.manager.stats.reconciles) if shards is None else (lambda: shards.reconciles)
clock = plane.clock if shards is None else shards.clock
report = {}
for step, version in (("create", "v1.34.2"), ("upgrade", "v1.35.0")):
    fleet_file = root / "fleet.yaml"
    fleet_file.write_text(fleet_file.read_text().replace("v1.34.2}", version + "}").replace("v1.35.0}", version + "}"))
    done, virtual, start, used = reconciles(), clock.now(), time.perf_counter(), cpu()
    planned = plan(root)  # timed with the rollout, as it always was
    view = local.roll_out(plane, planned) if shards is None else sharded.roll_out(shards, planned)
    report[step] = {
        "wall": time.perf_counter() - start,
        "cpu": cpu() - used,
        "reconciles": reconciles() - done,
        "virtual_hours": (clock.now() - virtual) / 3600,
        "phase": str(view.phase),
        "succeeded": sum(str(c.state) == "Succeeded" for c in view.clusters),
    }
if shards is None:
    report["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report["objects"] = len(plane.store)
else:
    usages = shards.usage()
    report["peak_mb"] = sum(usage.peak_mb for usage in usages)
    report["peak_mb_each"] = [round(usage.peak_mb) for usage in usages]
    report["objects"] = len(shards.store) + sum(usage.objects for usage in usages)
    shards.close()
print(json.dumps(report))
"""


def write_fleet(root: Path, clusters: int) -> None:
    """A fleet of ``clusters`` identical clusters: 1% canary (at least 1), 10% early, the rest broad."""
    canary, early = max(1, clusters // 100), max(1, clusters // 10)
    values = []
    for index in range(clusters):
        ring = "canary" if index < canary else "early" if index < canary + early else "broad"
        values.append(f"      - {{name: '{index:05d}', ring: {ring}}}")
    cluster_set = (
        "apiVersion: fleetc.io/v1alpha1\nkind: ClusterSet\nmetadata: {name: c}\nspec:\n  matrix:\n    n:\n"
        + "\n".join(values)
        + "\n  template:\n    metadata: {name: 'c-${n}', labels: {ring: '${n.ring}'}}\n"
        "    spec: {class: bench, provider: sim}\n"
    )
    root.mkdir(parents=True)
    (root / "fleet.yaml").write_text(FLEET.format(version="v1.34.2").split("---")[0])
    (root / "shapes.yaml").write_text("---".join(FLEET.format(version="v1.34.2").split("---")[1:]))
    (root / "clusters.yaml").write_text(cluster_set)


def measure(clusters: int, timeout: float, workers: int = 1) -> dict[str, object]:
    """Create and upgrade a fleet of ``clusters`` in a fresh process (and ``workers - 1`` shard processes)."""
    with tempfile.TemporaryDirectory() as temp:
        root = Path(temp) / "fleet"
        write_fleet(root, clusters)
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            child = subprocess.Popen([sys.executable, "-c", CHILD, str(root), str(workers)], stdout=out, stderr=err)
            sampled = _wait_sampling(child, timeout)
            out.seek(0)
            err.seek(0)
            if child.returncode != 0:
                error = err.read().decode(errors="replace")
                raise SystemExit(f"simulation of {clusters} clusters failed:\n{error[-2000:]}")
            report: dict[str, object] = json.loads(out.read())
        report["sampled_mb"] = sampled
        return report


def _wait_sampling(child: subprocess.Popen[bytes], timeout: float) -> float:
    """Wait for ``child``; the largest total resident memory of it and its descendants, sampled every
    :data:`SAMPLE_SECONDS` (what the processes held at once, where a sum of each one's peak is an upper bound)."""
    deadline, peak = time.monotonic() + timeout, 0.0
    while True:
        peak = max(peak, sum(_rss_mb(pid) for pid in _descendants(child.pid)))
        try:
            child.wait(timeout=SAMPLE_SECONDS)
            return peak
        except subprocess.TimeoutExpired:
            if time.monotonic() > deadline:
                child.kill()
                raise SystemExit(f"the simulation did not end within {timeout:.0f} s") from None


def _descendants(pid: int) -> list[int]:
    """``pid`` and every process below it (Linux ``/proc``)."""
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        try:
            with open(f"/proc/{current}/task/{current}/children", encoding="ascii") as children:
                pending.extend(int(child) for child in children.read().split())
        except OSError:
            continue  # ended meanwhile
    return found


def _rss_mb(pid: int) -> float:
    """A process's resident memory now (0 once it ended)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            line = next((line for line in status if line.startswith("VmRSS:")), "VmRSS: 0 kB")
    except OSError:
        return 0.0
    return int(line.split()[1]) / 1024


def table(rows: list[tuple[int, int, dict[str, object]]]) -> str:
    """The Markdown table of results (one row per fleet size and number of workers)."""
    lines = [
        "| clusters | machines | workers | create wall s | upgrade wall s | upgrade CPU s | upgrade reconciles | "
        "reconciles/CPU s | upgrade virtual h | peak RSS MB | sampled RSS MB | upgraded | target |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for clusters, workers, report in rows:
        create, upgrade = report["create"], report["upgrade"]
        assert isinstance(create, dict) and isinstance(upgrade, dict)
        rate = upgrade["reconciles"] / upgrade["cpu"]
        met = _target_met(clusters, upgrade["wall"], report["peak_mb"])
        lines.append(
            f"| {clusters:,} | {clusters * 9:,} | {workers} | {create['wall']:.1f} | {upgrade['wall']:.1f} | "
            f"{upgrade['cpu']:.1f} | {upgrade['reconciles']:,} | {rate:,.0f} | {upgrade['virtual_hours']:.1f} | "
            f"{_peak(report)} | {report['sampled_mb']:.0f} | "
            f"{upgrade['succeeded']:,} ({upgrade['phase']}) | {met} |"
        )
    return "\n".join(lines)


def _peak(report: dict[str, object]) -> str:
    """The peak RSS (``ru_maxrss``); with workers, the sum of each process's peak (they need not peak at once: an
    upper bound, and what the target is checked against), each in brackets."""
    each = report.get("peak_mb_each")
    total = f"{report['peak_mb']:.0f}"
    return f"{total} ({' + '.join(str(mb) for mb in each)})" if isinstance(each, list) else total


def _target_met(clusters: int, wall: float, peak_mb: object) -> str:
    if clusters not in TARGETS:
        return "—"
    seconds, megabytes = TARGETS[clusters]
    assert isinstance(peak_mb, float)
    met = wall <= seconds and (megabytes is None or peak_mb <= megabytes)
    wanted = f"≤ {seconds:.0f} s" + (f", ≤ {megabytes:.0f} MB" if megabytes is not None else "")
    return f"{'yes' if met else 'NO'} ({wanted})"


def interpreter() -> str:
    """This interpreter (the children run the same): version, executable, and where the interpreter's code lives."""
    with open("/proc/self/maps", encoding="utf-8") as maps:  # the libraries mapped into this process (Linux)
        shared = sorted({line.split()[-1] for line in maps if "libpython" in line})
    where = f"in the shared library {', '.join(shared)}" if shared else "built into the executable"
    options = [arg.strip("'") for arg in str(sysconfig.get_config_var("CONFIG_ARGS") or "").split()]
    optimised = [o for o in options if o in ("--enable-optimizations", "--with-lto")]
    configured = f", configured with {' '.join(optimised)}" if optimised else ""
    return (
        f"{platform.python_implementation()} {platform.python_version()} ({os.path.realpath(sys.executable)}), "
        f"interpreter {where}{configured}"
    )


def main() -> None:
    """Run the sizes and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--timeout", type=float, default=1800.0)
    parser.add_argument(
        "--workers", type=int, nargs="+", default=[1], help="run each size with each number of processes"
    )
    args = parser.parse_args()
    rows = [(size, workers, measure(size, args.timeout, workers)) for size in args.sizes for workers in args.workers]
    text = f"Interpreter: {interpreter()}\n\n{table(rows)}"
    print(text)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text + "\n")


if __name__ == "__main__":
    main()
