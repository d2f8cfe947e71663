"""``ClusterSet`` expansion: one Cluster document per combination of a parameter matrix.

Placeholders ``${param}`` and ``${param.key}`` are substituted in every string of the template; a string
that is exactly one placeholder takes the parameter's type (so ``replicas: ${size}`` can be a number).
Expanded clusters keep an :class:`~fleetc.load.origins.Origin` pointing into the template, so their
errors name the generator's lines and the matrix item.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from fleetc.core.diagnostics import Diagnostic, FieldPath
from fleetc.load.origins import Origin
from fleetc.schema.base import API_VERSION
from fleetc.schema.cluster import ClusterSetDocument, ParameterValue
from fleetc.schema.suggest import did_you_mean

MAX_GENERATED = 50_000
"""Most clusters one ClusterSet, and all ClusterSets of a fleet together, may generate."""
_PLACEHOLDER = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(?:\.([A-Za-z_][A-Za-z0-9_-]*))?\}")
_ESCAPE = "$${"  # a literal "${" in a template
_TEMPLATE = ("spec", "template")

Item = dict[str, ParameterValue]


@dataclass(frozen=True)
class GeneratedCluster:
    """A Cluster document expanded from a ClusterSet, and where its template lives."""

    data: dict[str, Any]
    origin: Origin


def expand(
    cluster_set: ClusterSetDocument, origin: Origin, *, budget: int = MAX_GENERATED
) -> tuple[list[GeneratedCluster], list[Diagnostic]]:
    """Every cluster of the set, or the diagnostics that stop the expansion.

    ``budget`` is how many clusters the fleet's other ClusterSets left of :data:`MAX_GENERATED`; a matrix
    over it is refused before anything is checked or generated.
    """
    spec = cluster_set.spec
    total = _count(spec.matrix)
    if total > MAX_GENERATED:
        return [], [
            origin.diagnostic(("spec", "matrix"), f"matrix expands to {total:,} clusters, over {MAX_GENERATED:,}")
        ]
    if total > budget:
        message = (
            f"matrix expands to {total:,} clusters; with the fleet's other ClusterSets that is over "
            f"{MAX_GENERATED:,} generated clusters in all"
        )
        return [], [origin.diagnostic(("spec", "matrix"), message)]
    problems = [*_matrix_problems(spec.matrix, origin), *_exclude_problems(spec.exclude, spec.matrix, origin)]
    template = {"metadata": spec.template.metadata, "spec": spec.template.spec}
    problems += list(_placeholder_problems(template, spec.matrix, origin, ()))
    if problems:
        return [], problems
    name = cluster_set.metadata.name
    return [_generate(template, item, origin, name) for item in _items(spec.matrix, spec.exclude)], []


def _count(matrix: dict[str, list[ParameterValue]]) -> int:
    total = 1
    for values in matrix.values():
        total *= len(values)
    return total


def _items(matrix: dict[str, list[ParameterValue]], exclude: list[dict[str, str]]) -> Iterator[Item]:
    names = list(matrix)
    for combination in itertools.product(*matrix.values()):
        item = dict(zip(names, combination, strict=True))
        if not any(all(_label(item[k]) == v for k, v in rule.items()) for rule in exclude):
            yield item


def _label(value: ParameterValue) -> str:
    return str(value["name"]) if isinstance(value, dict) else str(value)


def _generate(template: dict[str, Any], item: Item, origin: Origin, set_name: str) -> GeneratedCluster:
    data = {"apiVersion": API_VERSION, "kind": "Cluster", **_substitute(template, item)}
    context = f"ClusterSet {set_name}: " + ", ".join(f"{k}={_label(v)}" for k, v in item.items())
    return GeneratedCluster(data, Origin(origin.path, origin.node, _TEMPLATE, context))


def _substitute(value: Any, item: Item) -> Any:
    if isinstance(value, str):
        return _substitute_string(value, item)
    if isinstance(value, dict):
        return {_substitute_string(k, item): _substitute(v, item) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, item) for v in value]
    return value


def _substitute_string(text: str, item: Item) -> Any:
    whole = _PLACEHOLDER.fullmatch(text)
    if whole:
        return _lookup(item, whole.group(1), whole.group(2))
    if "${" not in text:
        return text
    return _PLACEHOLDER.sub(lambda m: str(_lookup(item, m.group(1), m.group(2))), text).replace(_ESCAPE, "${")


def _lookup(item: Item, param: str, key: str | None) -> str | int:
    value = item[param]
    if isinstance(value, dict):
        return value[key or "name"]
    return value


def _matrix_problems(matrix: dict[str, list[ParameterValue]], origin: Origin) -> Iterator[Diagnostic]:
    for param, values in matrix.items():
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", param):
            yield origin.diagnostic(
                ("spec", "matrix", param),
                f"'{param}' is not a parameter name (letters, digits, _)",
                at_key=True,
            )
        if not values:
            yield origin.diagnostic(("spec", "matrix", param), "a parameter needs at least one value")
        for index, value in enumerate(values):
            if isinstance(value, dict) and "name" not in value:
                yield origin.diagnostic(("spec", "matrix", param, index), "a map value needs a 'name' key")
        labels = Counter(_label(v) for v in values if not (isinstance(v, dict) and "name" not in v))
        for duplicate in sorted(x for x, n in labels.items() if n > 1):
            yield origin.diagnostic(("spec", "matrix", param), f"value '{duplicate}' is listed twice")


def _exclude_problems(
    exclude: list[dict[str, str]], matrix: dict[str, list[ParameterValue]], origin: Origin
) -> Iterator[Diagnostic]:
    for index, rule in enumerate(exclude):
        for key, value in rule.items():
            if key not in matrix:
                message = f"'{key}' is not a matrix parameter{did_you_mean(key, list(matrix))}"
                yield origin.diagnostic(("spec", "exclude", index, key), message, at_key=True)
                continue
            names = [_label(v) for v in matrix[key] if not (isinstance(v, dict) and "name" not in v)]
            if value not in names:
                message = f"'{value}' is not a value of {key}{did_you_mean(value, names)}; this rule excludes nothing"
                yield origin.diagnostic(("spec", "exclude", index, key), message)


def _placeholder_problems(
    value: Any, matrix: dict[str, list[ParameterValue]], origin: Origin, path: FieldPath
) -> Iterator[Diagnostic]:
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _string_problems(key, matrix, origin, (*path, key), at_key=True)
            yield from _placeholder_problems(child, matrix, origin, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _placeholder_problems(child, matrix, origin, (*path, index))
    elif isinstance(value, str):
        yield from _string_problems(value, matrix, origin, path, at_key=False)


def _string_problems(
    text: str, matrix: dict[str, list[ParameterValue]], origin: Origin, path: FieldPath, *, at_key: bool
) -> Iterator[Diagnostic]:
    field = (*_TEMPLATE, *path)
    for match in _PLACEHOLDER.finditer(text):
        param, key = match.group(1), match.group(2)
        if param not in matrix:
            message = f"placeholder ${{{param}}} names no matrix parameter{did_you_mean(param, list(matrix))}"
            yield origin.diagnostic(field, message, at_key=at_key)
            continue
        missing = [
            i for i, v in enumerate(matrix[param]) if key is not None and (not isinstance(v, dict) or key not in v)
        ]
        if missing:
            value = matrix[param][missing[0]]
            shown = _label(value) if not isinstance(value, dict) or "name" in value else f"#{missing[0] + 1}"
            message = f"placeholder ${{{param}.{key}}}: value '{shown}' has no key '{key}'"
            yield origin.diagnostic(field, message, at_key=at_key)
    if "${" in text.replace(_ESCAPE, "") and not _PLACEHOLDER.search(text):
        yield origin.diagnostic(
            field, f"'{text}' has a malformed placeholder; write ${{param}} or ${{param.key}}", at_key=at_key
        )
