"""Build benchmark (docs/design.md §9): ``fleetc build`` against ``kubectl kustomize`` on an equivalent tree, same run.

For each size, a synthetic fleet is generated into a temp dir (not timed). Then, each in a fresh child process
(wall time and the child's own peak RSS from ``os.wait4``):

- ``fleetc build ROOT -o OUT`` into an empty OUT, ``fleetc build --check`` on that fresh OUT, and a rebuild into
  the existing OUT with no spec change;
- ``kubectl kustomize KROOT > /dev/null`` on a hand-written equivalent of OUT made from fleetc's own output: one
  base (a generic CAPI Cluster holding what every cluster shares) and one overlay per cluster
  (``resources: [../../base]``, ``namespace:``, and a patch setting the name, labels, annotations and the rest
  of the spec), the class revisions and the namespace as plain resources, and a root kustomization listing them.
  Up to ``--verify-up-to`` clusters, an untimed extra kustomize run checks that it yields exactly fleetc's
  objects. Kustomize is killed after ``--kustomize-timeout`` seconds (reported as "> timeout").
- one more run of the build pipeline in-process, timed per phase (validate, compile, Flux objects, emit, write).

Targets at 10,000 clusters: build ≤ 20 s, ≥ 10× faster than kustomize, ≤ 2 GB. Prints Markdown tables and
writes them to ``bench/results/build.md``.

Usage: ``python bench/build_bench.py [--sizes 100 1000 10000] [--seed 0] [--kustomize-timeout 900]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import yaml

from fleetc.testing.synthetic import write_fleet

RESULTS = Path(__file__).resolve().parent / "results" / "build.md"
TARGET_CLUSTERS = 10_000
TARGET_SECONDS = 20.0
TARGET_SPEEDUP = 10.0
TARGET_RSS_MB = 2048.0

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Dumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
Document = dict[str, Any]
Key = tuple[str, str, str]

# Runs in the child: the steps of `fleetc build` (fleetc/cli/build_cmd.py), each timed, reported as JSON.
PHASES = """
import json, sys, time
from pathlib import Path
start = time.perf_counter()
from fleetc.load.sources import DiskTree
from fleetc.render.compile import compile_fleet
from fleetc.render.flux import FluxOptions, flux_objects
from fleetc.render.layout import tree_files
from fleetc.render.output import write_tree
from fleetc.schema.validate import validate_tree
marks = {"imports": time.perf_counter()}
result = validate_tree(DiskTree.open(sys.argv[1]))
assert result.ok and result.fleet is not None
marks["validate"] = time.perf_counter()
rendered = compile_fleet(result.fleet)
marks["compile"] = time.perf_counter()
flux = flux_objects(rendered, FluxOptions(path="./out"))
marks["flux"] = time.perf_counter()
files = tree_files(rendered, flux)
marks["emit"] = time.perf_counter()
write_tree(files, Path(sys.argv[2]), protected=Path(sys.argv[1]))
marks["write"] = time.perf_counter()
previous, spent = start, {}
for phase, mark in marks.items():
    spent[phase], previous = mark - previous, mark
print(json.dumps(spent))
"""
PHASE_NAMES = ("imports", "validate", "compile", "flux", "emit", "write")


@dataclass(frozen=True)
class Run:
    """One child process: wall seconds, its peak RSS in MiB, and whether it was killed at the timeout."""

    wall: float
    rss_mb: float
    timed_out: bool = False


@dataclass(frozen=True)
class Row:
    """Every measurement for one fleet size (best wall time and highest peak RSS over repeats)."""

    clusters: int
    build: list[Run]
    rebuild: list[Run]
    check: list[Run]
    kustomize: list[Run]
    phases: dict[str, float]
    phases_rss_mb: float
    verified: str

    @property
    def fleetc_rss_mb(self) -> float:
        """Highest peak RSS over every fleetc run (build, rebuild, --check)."""
        return max(r.rss_mb for r in self.build + self.rebuild + self.check)

    @property
    def kustomize_timed_out(self) -> bool:
        """True when kustomize never finished within the timeout."""
        return all(r.timed_out for r in self.kustomize)

    @property
    def speedup(self) -> float:
        """Kustomize wall time over fleetc build wall time (a lower bound when kustomize timed out)."""
        return best(self.kustomize) / best(self.build)

    def target(self) -> str:
        """Whether the docs/design.md targets hold (judged at 10,000 clusters only)."""
        if self.clusters != TARGET_CLUSTERS:
            return "—"
        misses = []
        if best(self.build) > TARGET_SECONDS:
            misses.append(f"build > {TARGET_SECONDS:.0f} s")
        if self.speedup < TARGET_SPEEDUP:
            misses.append(f"speed-up < {TARGET_SPEEDUP:.0f}×")
        if self.fleetc_rss_mb > TARGET_RSS_MB:
            misses.append(f"RSS > {TARGET_RSS_MB / 1024:.0f} GB")
        return f"**no** ({', '.join(misses)})" if misses else "yes"


def best(runs: list[Run]) -> float:
    """The best wall time of ``runs``."""
    return min(r.wall for r in runs)


def run(argv: list[str], *, stdout: IO[bytes] | int = subprocess.DEVNULL, timeout: float | None = None) -> Run:
    """Run ``argv`` as a fresh child; fail unless it exits 0 (or is killed at ``timeout``)."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        child = subprocess.Popen(argv, stdout=stdout, stderr=err, start_new_session=True)
        pidfd = os.pidfd_open(child.pid)
        try:
            finished, _, _ = select.select([pidfd], [], [], timeout)
            if not finished:  # the child is not reaped yet, so its process group id is still its own
                os.killpg(child.pid, signal.SIGKILL)
            _, status, usage = os.wait4(child.pid, 0)
        finally:
            os.close(pidfd)
        wall = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        message = err.read().decode(errors="replace")
    if finished and child.returncode != 0:
        raise SystemExit(f"{' '.join(argv)}: exit {child.returncode}\n{message[-2000:]}")
    return Run(wall, usage.ru_maxrss / 1024, timed_out=not finished)  # ru_maxrss is in KiB on Linux


def fleetc(*args: str) -> list[str]:
    """The command line of ``fleetc`` in a fresh interpreter of this virtualenv."""
    return [sys.executable, "-m", "fleetc", *args]


def load_all(path: Path) -> list[Document]:
    """The YAML documents of one file."""
    with path.open("rb") as stream:
        return [d for d in yaml.load_all(stream, Loader=_Loader) if d is not None]


def key_of(document: Document) -> Key:
    """(kind, namespace, name) of an object."""
    metadata = document["metadata"]
    return document["kind"], metadata.get("namespace", ""), metadata["name"]


def write_yaml(path: Path, document: Document) -> None:
    """Write one YAML document, creating the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.dump(document, Dumper=_Dumper, sort_keys=False))


def kustomize_tree(out: Path, dest: Path) -> dict[Key, Document]:
    """Write the base + overlays equivalent of fleetc's OUT into ``dest``; return the objects it must build."""
    expected: dict[Key, Document] = {}
    clusters = []
    for path in sorted(out.glob("clusters/*/cluster.yaml")):
        (cluster,) = load_all(path)
        clusters.append(cluster)
    common_labels = dict(clusters[0]["metadata"].get("labels", {}))
    common_spec = dict(clusters[0]["spec"])
    for cluster in clusters[1:]:
        labels, spec = cluster["metadata"].get("labels", {}), cluster["spec"]
        common_labels = {k: v for k, v in common_labels.items() if labels.get(k) == v}
        common_spec = {k: v for k, v in common_spec.items() if k in spec and spec[k] == v}
    base = {
        "apiVersion": clusters[0]["apiVersion"],
        "kind": "Cluster",
        "metadata": {"name": "cluster", "labels": common_labels},
        "spec": common_spec,
    }
    write_yaml(dest / "base" / "cluster.yaml", base)
    write_yaml(dest / "base" / "kustomization.yaml", {"resources": ["cluster.yaml"]})
    resources = ["namespaces.yaml"]
    shutil.copyfile(out / "namespaces" / "namespaces.yaml", dest / "namespaces.yaml")
    for path in sorted(out.glob("classes/*/class.yaml")):
        resources.append(f"classes/{path.parent.name}.yaml")
        (dest / "classes").mkdir(exist_ok=True)
        shutil.copyfile(path, dest / resources[-1])
    for name in ("namespaces.yaml", *resources[1:]):
        expected.update((key_of(d), d) for d in load_all(dest / name))
    for cluster in clusters:
        metadata = cluster["metadata"]
        name = metadata["name"]
        patch_metadata = {k: v for k, v in metadata.items() if k != "namespace"}
        patch_metadata["labels"] = {k: v for k, v in metadata.get("labels", {}).items() if k not in common_labels}
        patch = {
            "apiVersion": cluster["apiVersion"],
            "kind": "Cluster",
            "metadata": patch_metadata,
            "spec": {k: v for k, v in cluster["spec"].items() if k not in common_spec},
        }
        overlay = {
            "resources": ["../../base"],
            "namespace": metadata["namespace"],
            "patches": [
                {
                    "path": "patch.yaml",
                    "target": {"kind": "Cluster", "name": "cluster"},
                    "options": {"allowNameChange": True},
                }
            ],
        }
        write_yaml(dest / "overlays" / name / "patch.yaml", patch)
        write_yaml(dest / "overlays" / name / "kustomization.yaml", overlay)
        resources.append(f"overlays/{name}")
        expected[key_of(cluster)] = cluster
    write_yaml(dest / "kustomization.yaml", {"resources": resources})
    return expected


def verify(kroot: Path, expected: dict[Key, Document]) -> str:
    """Build ``kroot`` with kustomize (untimed) and check it yields exactly the expected objects."""
    built = subprocess.run(["kubectl", "kustomize", str(kroot)], check=True, capture_output=True).stdout
    actual = {key_of(d): d for d in yaml.load_all(built, Loader=_Loader) if d is not None}
    if actual.keys() != expected.keys():
        missing, extra = sorted(expected.keys() - actual.keys()), sorted(actual.keys() - expected.keys())
        raise SystemExit(f"{kroot}: kustomize objects differ: missing {missing[:5]}, extra {extra[:5]}")
    differ = sorted(k for k in expected if actual[k] != expected[k])
    if differ:
        kind, namespace, name = differ[0]
        raise SystemExit(f"{kroot}: {len(differ)} objects differ from fleetc's, e.g. {kind} {namespace}/{name}")
    clusters = sum(1 for k in expected if k[0] == "Cluster")
    return f"{clusters:,} Clusters and {len(expected) - clusters:,} other objects identical"


def phases(root: Path, out: Path) -> tuple[dict[str, float], float]:
    """The build pipeline in one fresh child, timed per phase; and its peak RSS."""
    with tempfile.TemporaryFile() as report:
        measured = run([sys.executable, "-c", PHASES, str(root), str(out)], stdout=report)
        report.seek(0)
        spent: dict[str, float] = json.loads(report.read())
    return spent, measured.rss_mb


def bench(clusters: int, seed: int, timeout: float, verify_up_to: int) -> Row:
    """Generate a fleet (untimed), then time fleetc and kustomize on it."""
    repeats = 3 if clusters <= 1_000 else 2
    kustomize_repeats = 3 if clusters <= 100 else 2 if clusters <= 1_000 else 1
    with tempfile.TemporaryDirectory(prefix="fleetc-build-bench-") as tmp:
        root, out, kroot = Path(tmp) / "fleet", Path(tmp) / "out", Path(tmp) / "kustomize"
        started = time.perf_counter()
        files = write_fleet(root, clusters, seed=seed)
        print(f"{clusters:>7,}: {files:,} files generated in {time.perf_counter() - started:.1f} s", flush=True)
        build: list[Run] = []
        check: list[Run] = []
        rebuild: list[Run] = []
        for _ in range(repeats):
            shutil.rmtree(out, ignore_errors=True)
            build.append(run(fleetc("build", str(root), "-o", str(out), "--flux-path", "./out")))
            check.append(run(fleetc("build", str(root), "-o", str(out), "--check", "--flux-path", "./out")))
            rebuild.append(run(fleetc("build", str(root), "-o", str(out), "--flux-path", "./out")))
            print(f"  fleetc build {build[-1].wall:.2f} s, --check {check[-1].wall:.2f} s, ", end="")
            print(f"rebuild {rebuild[-1].wall:.2f} s", flush=True)
        spent, phases_rss = phases(root, Path(tmp) / "out-phases")
        print(f"  phases: {', '.join(f'{p} {s:.2f} s' for p, s in spent.items())}", flush=True)
        expected = kustomize_tree(out, kroot)
        verified = verify(kroot, expected) if clusters <= verify_up_to else "not checked"
        print(f"  kustomize tree: {verified}", flush=True)
        kustomize: list[Run] = []
        for _ in range(kustomize_repeats):
            kustomize.append(run(["kubectl", "kustomize", str(kroot)], timeout=timeout))
            timed_out = " (killed at the timeout)" if kustomize[-1].timed_out else ""
            print(f"  kubectl kustomize {kustomize[-1].wall:.2f} s{timed_out}", flush=True)
            if kustomize[-1].timed_out:
                break
    return Row(clusters, build, rebuild, check, kustomize, spent, phases_rss, verified)


def table(rows: list[Row]) -> str:
    """The results as a Markdown table."""
    lines = [
        "| clusters | fleetc build s | rebuild s | --check s | fleetc peak MB | kustomize s | kustomize peak MB "
        "| speed-up | target met |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        over = "> " if row.kustomize_timed_out else ""
        lines.append(
            f"| {row.clusters:,} | {best(row.build):.2f} | {best(row.rebuild):.2f} | {best(row.check):.2f} "
            f"| {row.fleetc_rss_mb:.0f} | {over}{best(row.kustomize):.1f} "
            f"| {max(r.rss_mb for r in row.kustomize):.0f} | {over}{row.speedup:.1f}× | {row.target()} |"
        )
    return "\n".join(lines)


def phase_table(rows: list[Row]) -> str:
    """Where one build's time goes, as a Markdown table."""
    lines = [
        f"| clusters | {' s | '.join(PHASE_NAMES)} s | total s | peak MB |",
        "|---:|" + "---:|" * (len(PHASE_NAMES) + 2),
    ]
    for row in rows:
        cells = " | ".join(f"{row.phases[p]:.2f}" for p in PHASE_NAMES)
        lines.append(f"| {row.clusters:,} | {cells} | {sum(row.phases.values()):.2f} | {row.phases_rss_mb:.0f} |")
    return "\n".join(lines)


def main() -> None:
    """Run the benchmark, print the tables and write them to bench/results/build.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1_000, 10_000], help="Fleet sizes (clusters).")
    parser.add_argument("--seed", type=int, default=0, help="Seed of the synthetic fleets.")
    parser.add_argument("--kustomize-timeout", type=float, default=900.0, help="Kill kustomize after this (s).")
    parser.add_argument("--verify-up-to", type=int, default=1_000, help="Check kustomize's output up to this N.")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    rows = [bench(n, args.seed, args.kustomize_timeout, args.verify_up_to) for n in sorted(args.sizes)]
    load_after = os.getloadavg()[0]
    checks = "; ".join(f"{r.clusters:,}: {r.verified}" for r in rows)
    text = (
        f"# fleetc build benchmark\n\n"
        f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs, load average "
        f"{load_before:.1f} before and {load_after:.1f} after. A fresh process per run (wall includes interpreter "
        f"start and imports; peak RSS is the child's own); fleetc: best of 3 up to 1,000 clusters, best of 2 above; "
        f"kustomize (`kubectl kustomize` on one base + one overlay per cluster, stdout to /dev/null): best of 3 at "
        f"100, 2 up to 1,000, 1 above, killed after {args.kustomize_timeout:.0f} s. Rebuild: into the existing OUT, "
        f"no spec change; --check: on the fresh OUT. Targets at {TARGET_CLUSTERS:,} clusters: build "
        f"≤ {TARGET_SECONDS:.0f} s, ≥ {TARGET_SPEEDUP:.0f}× faster than kustomize, ≤ {TARGET_RSS_MB / 1024:.0f} GB "
        f"(docs/design.md §9). Kustomize output checked against fleetc's: {checks}.\n\n"
        f"{table(rows)}\n\n"
        f"One more build in-process, per phase (validate = read + check the specs, compile = CAPI objects, "
        f"flux = Flux Kustomizations, emit = YAML text of every file, write = atomic write of OUT):\n\n"
        f"{phase_table(rows)}\n"
    )
    print()
    print(text)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text)
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
