"""The build pipeline as one pure call: fleet → rendered set → Flux objects → output files.

Callers: ``fleetc build`` (which then writes or checks the files) and tests.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from fleetc.render.compile import compile_fleet
from fleetc.render.flux import FluxOptions, flux_objects
from fleetc.render.layout import tree_files
from fleetc.render.rendered import RenderedSet
from fleetc.schema.model import Fleet


@dataclass(frozen=True)
class Build:
    """What a build produces: the objects and the files of the output tree."""

    rendered: RenderedSet
    files: dict[str, bytes]


def build(fleet: Fleet, *, flux: FluxOptions, only: Collection[str] | None = None) -> Build:
    """Compile a valid fleet into the files of its output tree."""
    rendered = compile_fleet(fleet, only=only)
    return Build(rendered, tree_files(rendered, flux_objects(rendered, flux, prune_revisions=only is None)))
