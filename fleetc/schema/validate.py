"""Validation of a whole fleet from a source tree: every error at once, each located.

Stages: read ``fleet.yaml`` → read every other fleet file → validate each document → expand ClusterSets →
assemble the fleet (unique names) → cross-document rules. Caller: the CLI and :mod:`fleetc` (library API).
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from pydantic import BaseModel

from fleetc.core.diagnostics import Diagnostic, SourceLocation, has_errors, sorted_diagnostics
from fleetc.load.loader import collector_paused, fleet_files, read_file, read_files
from fleetc.load.origins import Origin
from fleetc.load.sources import FLEET_FILE, SourceTree, display_path
from fleetc.schema import admission, generators, kubeadm_rules, limits, provisioning, rules
from fleetc.schema.addons import read_addons
from fleetc.schema.base import Addon
from fleetc.schema.cluster import ClusterDocument, ClusterSetDocument
from fleetc.schema.cluster_class import ClusterClassDocument
from fleetc.schema.documents import ParsedDocument, parse_document
from fleetc.schema.fleet import FleetDocument
from fleetc.schema.model import Entry, Fleet
from fleetc.schema.provider import ProviderDocument


@dataclass(frozen=True)
class ValidationResult:
    """The fleet (None when even fleet.yaml is unusable) and every diagnostic, sorted by location."""

    fleet: Fleet | None
    diagnostics: list[Diagnostic]
    files: int = 0

    @property
    def ok(self) -> bool:
        """True when there are no errors (warnings allowed)."""
        return self.fleet is not None and not has_errors(self.diagnostics)


@dataclass
class _Collected:
    by_kind: dict[str, dict[str, Entry[Any]]] = field(default_factory=lambda: defaultdict(dict))
    broken: set[tuple[str, str]] = field(default_factory=set)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def add(self, parsed: ParsedDocument) -> None:
        self.diagnostics.extend(parsed.diagnostics)
        if parsed.model is None:
            if parsed.kind and parsed.name:
                self.broken.add((parsed.kind, parsed.name))
            return
        name = cast(Any, parsed.model).metadata.name
        kind = cast(str, parsed.kind)
        earlier = self.by_kind[kind].get(name)
        if earlier is not None:
            message = f"{kind} '{name}' is already defined at {earlier.origin.source()}"
            self.diagnostics.append(parsed.origin.diagnostic(("metadata", "name"), message))
            return
        self.by_kind[kind][name] = Entry(parsed.model, parsed.origin)


def validate_tree(tree: SourceTree, *, now: datetime | None = None) -> ValidationResult:
    """Validate the fleet whose root is the root of ``tree``; date rules check against ``now`` (default today)."""
    with collector_paused():
        return _validate(tree, now)


def _validate(tree: SourceTree, now: datetime | None) -> ValidationResult:
    listing = tree.list_yaml()
    if FLEET_FILE not in listing.files:
        refused = [p for p in listing.problems if p.location.path == display_path(tree, FLEET_FILE)]
        message = f"no {FLEET_FILE} here: not a fleet root (a fleet keeps fleet.yaml at its root)"
        return ValidationResult(None, refused or [Diagnostic(SourceLocation(tree.label or "."), "", message)])
    settings, diagnostics = _read_settings(tree)
    exclude = settings.document.spec.exclude if settings else []
    paths, problems = fleet_files(listing, exclude)
    loaded = read_files(tree, paths)
    collected = _Collected(diagnostics=[*diagnostics, *problems, *loaded.diagnostics])
    for document in loaded.documents:
        collected.add(parse_document(Origin.of(document), document.data))
    _expand_cluster_sets(collected)
    if settings is None:
        return ValidationResult(None, sorted_diagnostics(folded(collected.diagnostics)), len(paths) + 1)
    fleet = _assemble(tree, settings, collected)
    owners: list[tuple[Entry[Any], list[Addon]]] = [(e, e.document.spec.addons) for e in fleet.classes.values()]
    owners += [(e, e.document.spec.addons) for e in fleet.providers.values()]
    addons = read_addons(tree, listing.files, owners)
    fleet = dataclasses.replace(fleet, addon_files=addons.texts)
    scope = rules.Scope(fleet, frozenset(collected.broken), now)
    found = [*rules.check(scope), *limits.check(fleet), *admission.check(fleet), *addons.diagnostics]
    found += [*provisioning.check(fleet), *kubeadm_rules.check(fleet)]
    diagnostics = folded([*collected.diagnostics, *found])
    return ValidationResult(fleet, sorted_diagnostics(diagnostics), len(paths) + 1)


def _read_settings(tree: SourceTree) -> tuple[Entry[FleetDocument] | None, list[Diagnostic]]:
    loaded = read_file(tree, FLEET_FILE)
    diagnostics = list(loaded.diagnostics)
    if len(loaded.documents) != 1:
        if not diagnostics:
            message = f"{FLEET_FILE} must hold exactly one Fleet document (found {len(loaded.documents)})"
            diagnostics.append(Diagnostic(SourceLocation(display_path(tree, FLEET_FILE)), "", message))
        return None, diagnostics
    document = loaded.documents[0]
    parsed = parse_document(Origin.of(document), document.data, expect="Fleet")
    diagnostics.extend(parsed.diagnostics)
    if not isinstance(parsed.model, FleetDocument):
        return None, diagnostics
    return Entry(parsed.model, parsed.origin), diagnostics


def _expand_cluster_sets(collected: _Collected) -> None:
    budget = generators.MAX_GENERATED  # for all ClusterSets together: a small file must not make 300,000 clusters
    for entry in collected.by_kind.pop("ClusterSet", {}).values():
        document = cast(ClusterSetDocument, entry.document)
        clusters, problems = generators.expand(document, entry.origin, budget=budget)
        budget -= len(clusters)
        collected.diagnostics.extend(problems)
        for cluster in clusters:
            collected.add(parse_document(cluster.origin, cluster.data, expect="Cluster"))


def folded(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Findings repeated on many generated items shown once, naming the first item and counting the rest."""
    groups: dict[tuple[SourceLocation, str, str, str], list[Diagnostic]] = defaultdict(list)
    plain: list[Diagnostic] = []
    for diagnostic in diagnostics:
        if diagnostic.context:
            groups[(diagnostic.location, diagnostic.field, diagnostic.message, diagnostic.severity)].append(diagnostic)
        else:
            plain.append(diagnostic)
    for group in groups.values():
        first, more = group[0], len(group) - 1
        context = f"{first.context}, and {more} more item{'s' if more > 1 else ''}" if more else first.context
        plain.append(dataclasses.replace(first, context=context))
    return plain


def _assemble(tree: SourceTree, settings: Entry[FleetDocument], collected: _Collected) -> Fleet:
    def entries(kind: str, model: type[BaseModel]) -> dict[str, Entry[Any]]:
        return {k: v for k, v in sorted(collected.by_kind.get(kind, {}).items()) if isinstance(v.document, model)}

    return Fleet(
        root=tree.label,
        settings=settings,
        classes=entries("ClusterClass", ClusterClassDocument),
        providers=entries("Provider", ProviderDocument),
        clusters=entries("Cluster", ClusterDocument),
    )
