"""Diff benchmark (docs/design.md §9): ``fleetc diff --base HEAD~1`` after a class template change, on N clusters.

For each size, a synthetic fleet is committed in a temp git repository, then a template change of class
``standard`` (kubelet ``max-pods``) is committed: every ``standard`` cluster moves to a new class revision (about
60 % of the fleet). Neither step is timed. Then ``fleetc diff --base HEAD~1 --format markdown`` runs in a fresh
process per measurement, from the fleet folder, as CI would run it: the base is read from git objects, the head
from the working tree. Wall time covers interpreter start, imports, both loads, both compiles, the comparison and
the markdown; the peak RSS is the child's own (``os.wait4``). The largest size is also run once in-process per
phase (load + validate each side, compile both, compare, render).

Target: 10,000 clusters in ≤ 30 s (and ≤ 2 GB). Prints a Markdown table and writes it to ``bench/results/diff.md``.

Usage: ``python bench/diff_bench.py [--sizes 100 1000 10000] [--seed 0]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from child import run_child  # bench/ is on sys.path: the scripts run as python bench/NAME.py

from fleetc.testing.synthetic import write_fleet

RESULTS = Path(__file__).resolve().parent / "results" / "diff.md"
TARGET_CLUSTERS = 10_000
TARGET_SECONDS = 30.0
TARGET_RSS_MB = 2048.0
COMMENT_LIMIT = 65_536
_GIT = ("git", "-c", "user.name=bench", "-c", "user.email=bench@example.com", "-c", "init.defaultBranch=main")
TEMPLATE_BEFORE, TEMPLATE_AFTER = "max-pods: '110'", "max-pods: '120'"

# Runs in the child for the per-phase breakdown: the same pipeline as `fleetc diff`, timed step by step.
PHASES = """
import json, sys, time
start = time.perf_counter()
from pathlib import Path
from fleetc.load.sources import DiskTree, GitTree
from fleetc.plan.formats import markdown
from fleetc.plan.report import compare
from fleetc.plan.snapshot import from_rendered_set
from fleetc.render.compile import compile_fleet
from fleetc.schema.validate import validate_tree
marks = {"imports": time.perf_counter()}
root = Path(sys.argv[1])
base = validate_tree(GitTree.open(root, "HEAD~1"))
marks["load + validate base (git)"] = time.perf_counter()
head = validate_tree(DiskTree.open(root))
marks["load + validate head (disk)"] = time.perf_counter()
old, new = compile_fleet(base.fleet), compile_fleet(head.fleet)
marks["compile both"] = time.perf_counter()
report = compare(from_rendered_set("base", old, base.fleet), from_rendered_set("head", new, head.fleet))
marks["compare"] = time.perf_counter()
text = markdown.render(report)
marks["markdown"] = time.perf_counter()
previous, phases = start, {}
for name, mark in marks.items():
    phases[name] = mark - previous
    previous = mark
print(json.dumps({"phases": phases, "total": previous - start, "changed": len(report.changed_clusters)}))
"""


@dataclass(frozen=True)
class Run:
    """One ``fleetc diff`` in a fresh process."""

    wall: float
    rss_mb: float
    comment_chars: int
    changed: int


@dataclass(frozen=True)
class Row:
    """The best of several runs for one fleet size."""

    clusters: int
    layout: str
    runs: list[Run]

    @property
    def wall(self) -> float:
        """Best wall time, in seconds."""
        return min(r.wall for r in self.runs)

    @property
    def rss_mb(self) -> float:
        """Highest peak RSS over the runs, in MiB."""
        return max(r.rss_mb for r in self.runs)

    def target(self) -> str:
        """Whether the docs/design.md target holds (judged at 10,000 clusters only)."""
        if self.clusters != TARGET_CLUSTERS:
            return "—"
        return "yes" if self.wall <= TARGET_SECONDS and self.rss_mb <= TARGET_RSS_MB else "**no**"


def git(repo: Path, *args: str) -> None:
    """Run git quietly in ``repo``."""
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}
    subprocess.run([*_GIT, "-C", str(repo), *args], check=True, capture_output=True, env=env)


def prepare(repo: Path, clusters: int, seed: int, layout: str) -> Path:
    """A repository whose HEAD~1 holds the fleet and HEAD the template change; returns the fleet folder."""
    fleet = repo / "fleet"
    write_fleet(fleet, clusters, seed=seed, layout=layout)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "fleet")
    standard = fleet / "classes" / "standard.yaml"
    text = standard.read_text()
    if TEMPLATE_BEFORE not in text:
        raise SystemExit(f"{standard}: no {TEMPLATE_BEFORE} to change")
    standard.write_text(text.replace(TEMPLATE_BEFORE, TEMPLATE_AFTER))
    git(repo, "commit", "-q", "-am", "standard: max-pods 120")
    return fleet


def measure(fleet: Path) -> Run:
    """``fleetc diff --base HEAD~1 --format markdown`` in a fresh process, from the fleet folder."""
    command = [sys.executable, "-m", "fleetc", "diff", "--base", "HEAD~1", "--format", "markdown"]
    child = run_child(command, cwd=fleet)
    comment = child.stdout
    if child.exit_code != 0 or "fleetc diff" not in comment:
        raise SystemExit(f"fleetc diff in {fleet} failed (exit {child.exit_code}):\n{comment[:2000]}")
    changed = int(comment.split("**", 2)[1].split(" of ", 1)[0].replace(",", ""))
    return Run(child.wall, child.rss_mb, len(comment), changed)


def phases(fleet: Path) -> dict[str, float]:
    """One in-process run, timed per phase."""
    done = subprocess.run([sys.executable, "-c", PHASES, str(fleet)], check=True, capture_output=True, text=True)
    report = json.loads(done.stdout)
    return {**report["phases"], "total": report["total"]}


def bench(clusters: int, layout: str, seed: int, with_phases: bool) -> tuple[Row, dict[str, float] | None]:
    """Prepare a repository (untimed) and time the diff: best of 3 up to 1,000 clusters, best of 2 above."""
    repeats = 3 if clusters <= 1_000 else 2
    with tempfile.TemporaryDirectory(prefix="fleetc-diff-bench-") as tmp:
        started = time.perf_counter()
        fleet = prepare(Path(tmp), clusters, seed, layout)
        print(f"{clusters:>7,} {layout}: repository prepared in {time.perf_counter() - started:.1f} s", end="")
        runs = []
        for _ in range(repeats):
            runs.append(measure(fleet))
            print(f", {runs[-1].wall:.2f} s", end="", flush=True)
        print()
        breakdown = phases(fleet) if with_phases else None
    return Row(clusters, layout, runs), breakdown


def table(rows: list[Row]) -> str:
    """The results as a Markdown table."""
    lines = [
        "| clusters | layout | clusters changed | wall s | peak RSS MB | comment chars | clusters/s | target met |",
        "|---:|---|---:|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        run = row.runs[0]
        lines.append(
            f"| {row.clusters:,} | {row.layout} | {run.changed:,} | {row.wall:.2f} | {row.rss_mb:.0f} "
            f"| {run.comment_chars:,} | {row.clusters / row.wall:,.0f} | {row.target()} |"
        )
    return "\n".join(lines)


def phase_table(clusters: int, breakdown: dict[str, float]) -> str:
    """The per-phase breakdown as a Markdown table."""
    names = list(breakdown)
    head = "| clusters | " + " | ".join(f"{n} s" for n in names) + " |"
    rule = "|---:|" + "---:|" * len(names)
    return f"{head}\n{rule}\n| {clusters:,} | " + " | ".join(f"{breakdown[n]:.2f}" for n in names) + " |"


def main() -> None:
    """Run the benchmark, print the tables and write them to bench/results/diff.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1_000, 10_000], help="Fleet sizes (clusters).")
    parser.add_argument("--seed", type=int, default=0, help="Seed of the synthetic fleets.")
    args = parser.parse_args()
    sizes = sorted(args.sizes)
    plan = [(n, "file-per-cluster") for n in sizes] + [(sizes[-1], "grouped")]
    results = [bench(n, layout, args.seed, with_phases=(n, layout) == plan[-2]) for n, layout in plan]
    rows = [row for row, _ in results]
    breakdown = results[-2][1] or {}
    load = os.getloadavg()[0]
    header = (
        "# fleetc diff benchmark\n\n"
        f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs, load average "
        f"{load:.1f} after the runs. Scenario: a synthetic fleet (one file per cluster; the largest size "
        "also with 100 clusters per file) committed in a git repository, then a template change of class "
        "`standard` committed (kubelet max-pods); "
        "`fleetc diff --base HEAD~1 --format markdown` from the fleet folder, in a fresh process per run (wall "
        "includes interpreter start and imports; peak RSS is the child's own); best of 3 up to 1,000 clusters, "
        f"best of 2 above. Target: {TARGET_CLUSTERS:,} clusters in ≤ {TARGET_SECONDS:.0f} s (docs/design.md §9); the "
        f"comment must stay under {COMMENT_LIMIT:,} characters.\n"
    )
    text = (
        f"{header}\n{table(rows)}\n\nOne more run in-process at {sizes[-1]:,} clusters (one file per cluster), "
        f"per phase:\n\n"
        f"{phase_table(sizes[-1], breakdown)}\n"
    )
    print()
    print(text)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text)
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
