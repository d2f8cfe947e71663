"""Micro-benchmark of the simulated management plane (not a test): create N clusters, then upgrade them all.

Shape of the issue's benchmark: every cluster has 3 control-plane Machines and 2 pools × 3 workers (in-memory
provider), created at v1.34.2 and upgraded to v1.35.0 at once, in virtual time. Prints wall and CPU seconds,
reconciles per second and peak memory for each phase.

Run: ``.venv/bin/python -m tests.sim.bench_plane 100`` (``--gc-freeze`` freezes the objects alive after
creation out of the cyclic garbage collector, as a long-running CLI could).
"""

from __future__ import annotations

import argparse
import gc
import resource
import time

from fleetc.controllers.clock import EPOCH, VirtualClock
from fleetc.controllers.runtime import Manager
from fleetc.controllers.sim import apply_objects, install
from fleetc.controllers.store import MemoryStore
from fleetc.core.keys import Manifest
from tests.sim.support import manifests, small_fleet

POOLS = {"a": {"size": "large", "replicas": 3}, "b": {"size": "large", "replicas": 3}}


def fleet(count: int, version: str) -> list[Manifest]:
    """``count`` clusters of 3 CP + 2 × 3 workers at ``version``."""
    return manifests(small_fleet(*(f"c-{i:05d}" for i in range(count)), version=version, workers=POOLS))


def phase(name: str, manager: Manager, clock: VirtualClock, started: tuple[float, float, int]) -> None:
    """Print one line of results since ``started`` (wall, cpu, reconciles)."""
    wall, cpu = time.perf_counter() - started[0], time.process_time() - started[1]
    reconciles = manager.stats.reconciles - started[2]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{name:8s} virtual {clock.now() - EPOCH:7.0f}s  wall {wall:7.2f}s  cpu {cpu:7.2f}s  "
        f"reconciles {reconciles:8d}  {reconciles / wall:7.0f}/s  peak {peak:6.0f} MB  errors {len(manager.errors)}"
    )


def main() -> None:
    """Create and upgrade N clusters; print a line per phase."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("clusters", type=int, nargs="?", default=100)
    parser.add_argument("--gc-freeze", action="store_true")
    args = parser.parse_args()
    create, upgrade = fleet(args.clusters, "v1.34.2"), fleet(args.clusters, "v1.35.0")
    clock = VirtualClock()
    store = MemoryStore(clock)
    manager = Manager(store, clock)
    install(manager, seed=1)
    started = (time.perf_counter(), time.process_time(), manager.stats.reconciles)
    apply_objects(store, create)
    manager.run(lambda: False)
    phase("create", manager, clock, started)
    if args.gc_freeze:
        gc.collect()
        gc.freeze()
    started = (time.perf_counter(), time.process_time(), manager.stats.reconciles)
    apply_objects(store, upgrade)
    manager.run(lambda: False)
    phase("upgrade", manager, clock, started)
    machines = store.list("cluster.x-k8s.io", "Machine")
    versions = sorted({m["spec"]["version"] for m in machines})
    print(f"{len(machines)} machines at {versions}; by controller: {manager.stats.by_controller}")


if __name__ == "__main__":
    main()
