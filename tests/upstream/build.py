"""Builds the pinned upstream binaries (kube-apiserver, etcd, CAPI's managers) into a cache outside the repository.

``python -m tests.upstream.build [NAME...]`` builds the named builds of ``pins.toml`` (all by default) and fetches
the CRD modules; ``make test`` runs it first. Each build lands in ``<cache>/<name>-<version>-<hash>/`` where the hash
covers the wrapper module (go.mod, go.sum, tools.go), the binaries and the build flags, so a changed pin builds anew
and an unchanged one is a no-op. A build goes to a temporary folder that is renamed into place only when every
binary built, so an interrupted build leaves nothing half-made behind. The kube_api fixture calls :func:`ensure`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from tests.upstream import crds, pins, toolchain

GO_BUILD_FLAGS = ("-trimpath",)
LINKER_FLAGS = "-s -w"
KUBERNETES = "k8s.io/kubernetes"


def version_stamp(build: pins.Build) -> str:
    """Linker flags that stamp a Kubernetes binary with its release, as Kubernetes' own build does
    (``hack/lib/version.sh``). Unstamped, kube-apiserver reports ``v0.0.0-master+$Format:%H$`` and CAPI's
    managers refuse to start ("unsupported management cluster server version")."""
    if build.module.path != KUBERNETES:
        return ""
    version = build.module.version
    major, minor = version.lstrip("v").split(".")[:2]
    prefix = "-X k8s.io/component-base/version"
    return (
        f" {prefix}.gitVersion={version} {prefix}.gitMajor={major} {prefix}.gitMinor={minor}"
        f" {prefix}.gitTreeState=clean"
    )


def go_build_flags(build: pins.Build) -> list[str]:
    """Every ``go build`` flag of a build."""
    return [*GO_BUILD_FLAGS, f"-ldflags={LINKER_FLAGS}{version_stamp(build)}"]


MANIFEST = "BUILD.json"

Log = Callable[[str], None]


def _say(line: str) -> None:
    print(f"upstream: {line}", flush=True)


def build_hash(build: pins.Build) -> str:
    """A short hash of everything that decides what the build produces."""
    digest = hashlib.sha256()
    for name in ("go.mod", "go.sum", "tools.go"):
        digest.update(name.encode() + b"\0" + (build.gomod / name).read_bytes() + b"\0")
    settings = [sorted(build.binaries.items()), go_build_flags(build), toolchain.go_env()["CGO_ENABLED"]]
    digest.update(json.dumps(settings).encode())
    return digest.hexdigest()[:12]


def target(build: pins.Build) -> Path:
    """The cache folder of a build (it exists only once the build is complete)."""
    return toolchain.cache_root() / f"{build.name}-{build.module.version}-{build_hash(build)}"


def cached(build: pins.Build) -> Path | None:
    """The finished build's folder, or None."""
    folder = target(build)
    return folder if (folder / MANIFEST).is_file() else None


def _go_build(go: str, build: pins.Build, binary: str, package: str, out: Path) -> None:
    command = [go, "build", *go_build_flags(build), "-o", str(out / binary), package]
    result = subprocess.run(
        command, cwd=build.gomod, env=toolchain.go_env(), capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"`{' '.join(command)}` failed in {build.gomod}:\n{result.stderr[-4000:]}")


def ensure(build: pins.Build, log: Log = _say) -> Path:
    """The folder holding the build's binaries, building them first unless they are cached."""
    found = cached(build)
    if found is not None:
        return found
    go = toolchain.go()
    final = target(build)
    final.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
    try:
        timings = {}
        for binary, package in build.binaries.items():
            log(f"building {binary} ({build.module.path} {build.module.version}) ...")
            started = time.monotonic()
            _go_build(go, build, binary, package, scratch)
            timings[binary] = round(time.monotonic() - started, 1)
            log(f"built {binary} in {timings[binary]:.1f} s")
        manifest = {"module": build.module.query, "binaries": build.binaries, "seconds": timings}
        (scratch / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        try:
            os.rename(scratch, final)
        except OSError:
            if cached(build) is None:  # not a concurrent build that finished first
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return final


def binary(build_name: str, name: str) -> Path:
    """The path of one built binary (built first when missing)."""
    return ensure(pins.load().builds[build_name]) / name


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def main(argv: list[str] | None = None) -> int:
    """Build the named builds (all by default), fetch the CRD modules, print timings."""
    all_pins = pins.load()
    parser = argparse.ArgumentParser(prog="python -m tests.upstream.build", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"builds to make: {', '.join(all_pins.builds)} (default: all)")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(all_pins.builds))
    if unknown:
        parser.error(f"unknown build {', '.join(unknown)}")
    try:
        toolchain.go()
    except toolchain.ToolMissing as missing:
        _say(f"{'ERROR' if toolchain.in_ci() else 'SKIPPED'}: {missing}")
        return 1 if toolchain.in_ci() else 0
    started = time.monotonic()
    for name in args.names or all_pins.builds:
        build = all_pins.builds[name]
        was_cached = cached(build) is not None
        folder = ensure(build)
        state = "cached" if was_cached else "built"
        _say(f"{name} {build.module.version} {state}: {folder} ({_size(folder) / 2**20:.0f} MiB)")
    if not args.names:
        fetch_started = time.monotonic()
        folders = crds.download(all_pins.crds.values())
        _say(
            f"{len(folders)} CRD folders from {len({s.module for s in all_pins.crds.values()})} modules ready "
            f"in {time.monotonic() - fetch_started:.1f} s"
        )
    _say(f"done in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
