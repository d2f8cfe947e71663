"""Follows a pydantic error path through the model types: the written field path, and "did you mean".

pydantic's error ``loc`` holds union tags (``spec.aws.region``) and key markers that are not YAML fields;
walking the model types alongside the path tells which elements are real, and which keys a mapping allows.
"""

from __future__ import annotations

import difflib
import functools
import types
from collections.abc import Sequence
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel

from fleetc.core.diagnostics import FieldPath


def _unwrap(annotation: Any) -> Any:
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if _is_union(annotation):
        members = [a for a in get_args(annotation) if a is not type(None)]
        if len(members) == 1:
            return _unwrap(members[0])
    return annotation


def _is_union(annotation: Any) -> bool:
    return get_origin(annotation) in (Union, types.UnionType)


def _field_by_alias(model: type[BaseModel], alias: str) -> Any:
    for name, info in model.model_fields.items():
        if (info.alias or name) == alias:
            return info.annotation
    return None


def field_aliases(model: type[BaseModel]) -> list[str]:
    """The YAML names of a model's fields."""
    return [info.alias or name for name, info in model.model_fields.items()]


def _tagged_member(annotation: Any, tag: object) -> Any:
    for candidate in map(_unwrap, get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            type_field = candidate.model_fields.get("type")
            literal = type_field.annotation if type_field is not None else None
            if get_origin(literal) is Literal and tag in get_args(literal):
                return candidate
    return None


def _step(current: Any, element: str | int) -> tuple[Any, bool]:
    """The type after following ``element`` and whether ``element`` is a written field."""
    if element == "[key]":
        return current, False
    if _is_union(current):
        member = _tagged_member(current, element)
        return (member, False) if member is not None else (current, False)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return _unwrap(_field_by_alias(current, str(element))), True
    origin = get_origin(current)
    if origin is dict:
        return (current, False) if element == "[key]" else (_unwrap(get_args(current)[1]), True)
    if origin is list and isinstance(element, int):
        return _unwrap(get_args(current)[0]), True
    return current, not isinstance(element, str) or not element.startswith(("function-", "["))


def follow(model: type[BaseModel], loc: Sequence[str | int]) -> tuple[FieldPath, Any]:
    """The written field path of a pydantic ``loc`` and the type found at its end."""
    current: Any = model
    written: list[str | int] = []
    for element in loc:
        current, is_field = _step(current, element)
        if is_field:
            written.append(element)
    return tuple(written), current


def allowed_keys(model: type[BaseModel], parent_loc: Sequence[str | int]) -> list[str]:
    """The keys a mapping at ``parent_loc`` accepts, when it is a model."""
    _, found = follow(model, parent_loc)
    if isinstance(found, type) and issubclass(found, BaseModel):
        return field_aliases(found)
    return []


def did_you_mean(word: str, choices: Sequence[str]) -> str:
    """`` (did you mean 'replicas'?)`` for a near miss, else an empty string.

    Cached: one typo in a ClusterSet template asks the same question once per generated cluster.
    """
    return _did_you_mean(word, tuple(choices))


@functools.lru_cache(maxsize=4096)
def _did_you_mean(word: str, choices: tuple[str, ...]) -> str:
    lowered = {c.lower(): c for c in choices}
    close = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return f" (did you mean '{lowered[close[0]]}'?)" if close else ""
