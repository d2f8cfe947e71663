"""CRD folders from the pinned Go modules: ``go mod download -json MODULE@VERSION`` names the module's folder.

The module cache is read-only and content-addressed, and each download is checked against the ``h1:`` sum pinned in
``pins.toml``, so the CRDs are exactly the upstream files of that tag. Called by ``reference`` (tests) and ``build``.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterable
from pathlib import Path

from tests.upstream import pins, toolchain


def _decode_stream(text: str) -> list[dict[str, str]]:
    decoder, position, found = json.JSONDecoder(), 0, []
    while position < len(text.rstrip()):
        obj, position = decoder.raw_decode(text, position)
        found.append(obj)
        while position < len(text) and text[position].isspace():
            position += 1
    return found


def module_dirs(modules: Iterable[pins.Module]) -> dict[pins.Module, Path]:
    """The module-cache folder of each module (downloaded when missing, checked against its pinned sum)."""
    wanted = {m.query: m for m in modules}
    if not wanted:
        return {}
    scratch = toolchain.cache_root()
    scratch.mkdir(parents=True, exist_ok=True)  # a folder without go.mod: no caller's module gets in the way
    result = subprocess.run(
        [toolchain.go(), "mod", "download", "-json", *wanted],
        cwd=scratch,
        env=toolchain.go_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    folders = {}
    for info in _decode_stream(result.stdout):
        module = wanted[f"{info['Path']}@{info['Version']}"]
        if "Error" in info:
            raise RuntimeError(f"go mod download {module.query}: {info['Error']}")
        if module.sum is not None and info.get("Sum") != module.sum:
            raise RuntimeError(f"{module.query} has sum {info.get('Sum')}, pins.toml says {module.sum}")
        folders[module] = Path(info["Dir"])
    missing = [query for query, module in wanted.items() if module not in folders]
    if missing:
        raise RuntimeError(f"go mod download gave no folder for {', '.join(missing)}:\n{result.stderr[-2000:]}")
    return folders


def download(sources: Iterable[pins.CrdSource]) -> dict[str, Path]:
    """The CRD folder of each source, by source name."""
    sources = list(sources)
    dirs = module_dirs({s.module for s in sources})
    folders = {s.name: dirs[s.module] / s.folder for s in sources}
    for name, folder in folders.items():
        if not folder.is_dir():
            raise RuntimeError(f"CRD folder {name} is missing: {folder}")
    return folders
