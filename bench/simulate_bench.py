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

Usage: ``python bench/simulate_bench.py [--sizes 100 1000] [--timeout 1800]``.
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
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "simulate.md"
TARGETS = {1_000: (30.0, None), 10_000: (300.0, 2048.0)}
"""Issue 12's targets by fleet size: upgrade wall seconds, peak RSS MB (None: no memory target)."""

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
from fleetc.engine import local
from fleetc.load.sources import DiskTree
from fleetc.render.compile import compile_fleet
from fleetc.schema.validate import validate_tree

def plan(root):
    result = validate_tree(DiskTree.open(root))
    assert result.ok, [str(d) for d in result.diagnostics[:3]]
    return rollout.plan_rollout(compile_fleet(result.fleet))

root = Path(sys.argv[1])
plane = local.open_plane(seed=0)
report = {}
for step, version in (("create", "v1.34.2"), ("upgrade", "v1.35.0")):
    fleet_file = root / "fleet.yaml"
    fleet_file.write_text(fleet_file.read_text().replace("v1.34.2}", version + "}").replace("v1.35.0}", version + "}"))
    reconciles, virtual, start = plane.manager.stats.reconciles, plane.clock.now(), time.perf_counter()
    cpu = time.process_time()
    view = local.roll_out(plane, plan(root))
    report[step] = {
        "wall": time.perf_counter() - start,
        "cpu": time.process_time() - cpu,
        "reconciles": plane.manager.stats.reconciles - reconciles,
        "virtual_hours": (plane.clock.now() - virtual) / 3600,
        "phase": str(view.phase),
        "succeeded": sum(str(c.state) == "Succeeded" for c in view.clusters),
    }
report["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
report["objects"] = len(plane.store)
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


def measure(clusters: int, timeout: float) -> dict[str, object]:
    """Create and upgrade a fleet of ``clusters`` in a fresh process."""
    with tempfile.TemporaryDirectory() as temp:
        root = Path(temp) / "fleet"
        write_fleet(root, clusters)
        result = subprocess.run(
            [sys.executable, "-c", CHILD, str(root)], capture_output=True, text=True, timeout=timeout, check=False
        )
        if result.returncode != 0:
            raise SystemExit(f"simulation of {clusters} clusters failed:\n{result.stderr[-2000:]}")
        report: dict[str, object] = json.loads(result.stdout)
        return report


def table(rows: list[tuple[int, dict[str, object]]]) -> str:
    """The Markdown table of results."""
    lines = [
        "| clusters | machines | create wall s | upgrade wall s | upgrade CPU s | upgrade reconciles | "
        "reconciles/CPU s | upgrade virtual h | peak RSS MB | upgraded | target |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for clusters, report in rows:
        create, upgrade = report["create"], report["upgrade"]
        assert isinstance(create, dict) and isinstance(upgrade, dict)
        rate = upgrade["reconciles"] / upgrade["cpu"]
        met = _target_met(clusters, upgrade["wall"], report["peak_mb"])
        lines.append(
            f"| {clusters:,} | {clusters * 9:,} | {create['wall']:.1f} | {upgrade['wall']:.1f} | "
            f"{upgrade['cpu']:.1f} | {upgrade['reconciles']:,} | {rate:,.0f} | {upgrade['virtual_hours']:.1f} | "
            f"{report['peak_mb']:.0f} | "
            f"{upgrade['succeeded']:,} ({upgrade['phase']}) | {met} |"
        )
    return "\n".join(lines)


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
    args = parser.parse_args()
    rows = [(size, measure(size, args.timeout)) for size in args.sizes]
    text = f"Interpreter: {interpreter()}\n\n{table(rows)}"
    print(text)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text + "\n")


if __name__ == "__main__":
    main()
