"""The upstream versions pinned in ``pins.toml``, as typed values.

Read by ``build`` (which binaries, from which wrapper module), ``crds`` (which CRD folders, in which module) and the
tests that check the wrapper ``go.mod`` files agree with the pins.
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
PINS_FILE = HERE / "pins.toml"
GOMOD = HERE / "gomod"


@dataclass(frozen=True)
class Module:
    """A Go module at an exact version; ``sum`` is its go.sum ``h1:`` hash when pinned."""

    name: str
    path: str
    version: str
    sum: str | None = None

    @property
    def query(self) -> str:
        """``path@version``, as ``go mod download`` takes it."""
        return f"{self.path}@{self.version}"


@dataclass(frozen=True)
class Build:
    """Binaries built from the wrapper module ``gomod/<name>`` (binary name -> main package)."""

    name: str
    module: Module
    binaries: dict[str, str]

    @property
    def gomod(self) -> Path:
        """The wrapper module's folder."""
        return GOMOD / self.name


@dataclass(frozen=True)
class CrdSource:
    """A folder of CRDs inside a pinned module."""

    name: str
    module: Module
    folder: str


@dataclass(frozen=True)
class Pins:
    """Everything ``pins.toml`` pins."""

    modules: dict[str, Module]
    builds: dict[str, Build]
    crds: dict[str, CrdSource]


def parse(text: str) -> Pins:
    """Pins from the text of a pins file."""
    data = tomllib.loads(text)
    modules = {
        name: Module(name, entry["path"], entry["version"], entry.get("sum")) for name, entry in data["modules"].items()
    }
    builds = {
        name: Build(name, modules[entry["module"]], dict(entry["binaries"])) for name, entry in data["builds"].items()
    }
    crds = {name: CrdSource(name, modules[entry["module"]], entry["folder"]) for name, entry in data["crds"].items()}
    return Pins(modules, builds, crds)


@functools.cache
def load() -> Pins:
    """The repository's pins."""
    return parse(PINS_FILE.read_text())
