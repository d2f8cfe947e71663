"""Validate benchmark (docs/design.md §9): wall time and peak memory of validating synthetic fleets of N clusters.

For each size, a fleet is generated into a temp dir (not timed), then validated in a fresh Python process per
measurement, as ``fleetc validate`` would be: the wall time covers interpreter start, imports and
``validate_tree``; the peak RSS is the child's own (``os.wait4`` returns that one child's resource usage).
The largest size is measured in both layouts (one file per cluster, and 100 clusters per file).

Target: 10,000 clusters in ≤ 10 s and ≤ 2 GB. Prints a Markdown table and writes it to
``bench/results/validate.md``.

Usage: ``python bench/validate_bench.py [--sizes 100 1000 10000] [--seed 0]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from child import run_child  # bench/ is on sys.path: the scripts run as python bench/NAME.py

from fleetc.testing.synthetic import write_fleet

RESULTS = Path(__file__).resolve().parent / "results" / "validate.md"
TARGET_CLUSTERS = 10_000
TARGET_SECONDS = 10.0
TARGET_RSS_MB = 2048.0

# Runs in the child: validate the fleet and report the in-process time and the outcome as JSON.
CHILD = """
import json, sys, time
start = time.perf_counter()
from fleetc.load.sources import DiskTree
from fleetc.schema.validate import validate_tree
imported = time.perf_counter()
result = validate_tree(DiskTree.open(sys.argv[1]))
done = time.perf_counter()
print(json.dumps({
    "imports": imported - start,
    "validate": done - imported,
    "ok": result.ok,
    "files": result.files,
    "clusters": len(result.fleet.clusters) if result.fleet else 0,
    "diagnostics": [str(d) for d in result.diagnostics[:5]],
    "diagnostic_count": len(result.diagnostics),
}))
"""


@dataclass(frozen=True)
class Run:
    """One validation in a fresh process."""

    wall: float
    validate: float
    rss_mb: float
    files: int


@dataclass(frozen=True)
class Row:
    """The best of several runs for one fleet size and layout."""

    clusters: int
    layout: str
    runs: list[Run]

    @property
    def files(self) -> int:
        """Files the validation read (fleet.yaml included)."""
        return self.runs[0].files

    @property
    def wall(self) -> float:
        """Best wall time of the whole child process, in seconds."""
        return min(r.wall for r in self.runs)

    @property
    def validate(self) -> float:
        """Best time spent in ``validate_tree`` alone, in seconds."""
        return min(r.validate for r in self.runs)

    @property
    def rss_mb(self) -> float:
        """Highest peak RSS over the runs, in MiB."""
        return max(r.rss_mb for r in self.runs)

    def target(self) -> str:
        """Whether the docs/design.md target holds (judged at 10,000 clusters only)."""
        if self.clusters != TARGET_CLUSTERS:
            return "—"
        met = self.wall <= TARGET_SECONDS and self.rss_mb <= TARGET_RSS_MB
        return "yes" if met else "**no**"


def measure(root: Path, clusters: int) -> Run:
    """Validate ``root`` in a fresh Python process; fail unless the fleet is valid with no diagnostics."""
    child = run_child([sys.executable, "-c", CHILD, str(root)])
    if child.exit_code != 0:
        raise SystemExit(f"validation of {root} crashed (exit {child.exit_code})")
    report = json.loads(child.stdout)
    if not report["ok"] or report["diagnostic_count"] or report["clusters"] != clusters:
        shown = "\n  ".join(report["diagnostics"])
        raise SystemExit(
            f"{root}: synthetic fleet is not clean: ok={report['ok']}, clusters={report['clusters']}/{clusters}, "
            f"{report['diagnostic_count']} diagnostics:\n  {shown}"
        )
    return Run(child.wall, report["validate"], child.rss_mb, report["files"])


def bench(clusters: int, layout: str, seed: int) -> Row:
    """Generate a fleet (untimed) and validate it: best of 3 up to 1,000 clusters, best of 2 above."""
    repeats = 3 if clusters <= 1_000 else 2
    with tempfile.TemporaryDirectory(prefix="fleetc-bench-") as tmp:
        root = Path(tmp) / "fleet"
        started = time.perf_counter()
        files = write_fleet(root, clusters, seed=seed, layout=layout)
        print(f"{clusters:>7,} {layout}: {files:,} files generated in {time.perf_counter() - started:.1f} s", end="")
        runs = []
        for _ in range(repeats):
            runs.append(measure(root, clusters))
            print(f", {runs[-1].wall:.2f} s", end="", flush=True)
        print()
    return Row(clusters, layout, runs)


def table(rows: list[Row]) -> str:
    """The results as a Markdown table."""
    lines = [
        "| clusters | layout | files | wall s | of which validate_tree s | peak RSS MB | clusters/s | target met |",
        "|---:|---|---:|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row.clusters:,} | {row.layout} | {row.files:,} | {row.wall:.2f} | {row.validate:.2f} "
            f"| {row.rss_mb:.0f} | {row.clusters / row.wall:,.0f} | {row.target()} |"
        )
    return "\n".join(lines)


def main() -> None:
    """Run the benchmark, print the table and write it to bench/results/validate.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1_000, 10_000], help="Fleet sizes (clusters).")
    parser.add_argument("--seed", type=int, default=0, help="Seed of the synthetic fleets.")
    args = parser.parse_args()
    sizes = sorted(args.sizes)
    plan = [(n, "file-per-cluster") for n in sizes] + [(sizes[-1], "grouped")]
    rows = [bench(n, layout, args.seed) for n, layout in plan]
    header = (
        f"# fleetc validate benchmark\n\n"
        f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs; "
        f"a fresh process per run (wall includes interpreter start and imports); best of 3 up to 1,000 clusters, "
        f"best of 2 above; peak RSS is the child's own. Target: {TARGET_CLUSTERS:,} clusters in "
        f"≤ {TARGET_SECONDS:.0f} s and ≤ {TARGET_RSS_MB / 1024:.0f} GB (docs/design.md §9).\n"
    )
    text = f"{header}\n{table(rows)}\n"
    print()
    print(text)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text)
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
