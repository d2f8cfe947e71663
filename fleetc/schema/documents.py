"""Typed documents from parsed YAML: kind dispatch and pydantic errors turned into located diagnostics.

Caller: :mod:`fleetc.schema.validate`. Each document is validated on its own, so one broken document
never hides the errors of another.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from fleetc.core.diagnostics import Diagnostic, format_field_path
from fleetc.core.redact import without_value
from fleetc.load.origins import Origin
from fleetc.schema.base import API_VERSION
from fleetc.schema.cluster import ClusterDocument, ClusterSetDocument
from fleetc.schema.cluster_class import ClusterClassDocument
from fleetc.schema.fleet import FleetDocument
from fleetc.schema.provider import PROVIDER_TYPES, ProviderDocument
from fleetc.schema.suggest import allowed_keys, did_you_mean, follow

KINDS: dict[str, type[BaseModel]] = {
    "Fleet": FleetDocument,
    "ClusterClass": ClusterClassDocument,
    "Provider": ProviderDocument,
    "Cluster": ClusterDocument,
    "ClusterSet": ClusterSetDocument,
}
_TYPE_TAGS: tuple[str, ...] = PROVIDER_TYPES  # the only tagged union of the spec
_SECRETISH = re.compile(r"secret|password|passwd|token|private_?key|access_?key|credential(?!sref)", re.I)


@dataclass(frozen=True)
class ParsedDocument:
    """A document's kind and name as written, and its model when it is valid."""

    kind: str | None
    name: str | None
    model: BaseModel | None
    origin: Origin
    diagnostics: tuple[Diagnostic, ...] = ()


def written_name(data: Any) -> str | None:
    """``metadata.name`` when it is a string, so references to a broken document can be forgiven."""
    metadata = data.get("metadata") if isinstance(data, dict) else None
    name = metadata.get("name") if isinstance(metadata, dict) else None
    return name if isinstance(name, str) else None


def parse_document(origin: Origin, data: Any, *, expect: str | None = None) -> ParsedDocument:
    """Validate one document against the model of its kind (or of ``expect``)."""
    if not isinstance(data, dict):
        message = "a fleet document must be a mapping with apiVersion, kind, metadata and spec"
        return ParsedDocument(None, None, None, origin, (origin.diagnostic((), message),))
    kind, problems = _kind_of(origin, data, expect)
    name = written_name(data)
    if kind is None:
        return ParsedDocument(
            data.get("kind") if isinstance(data.get("kind"), str) else None,
            name,
            None,
            origin,
            tuple(problems),
        )
    model = KINDS[kind]
    try:
        return ParsedDocument(kind, name, model.model_validate(data), origin)
    except ValidationError as exc:
        return ParsedDocument(kind, name, None, origin, tuple(validation_diagnostics(origin, model, exc)))


def _kind_of(origin: Origin, data: dict[str, Any], expect: str | None) -> tuple[str | None, list[Diagnostic]]:
    api_version, kind = data.get("apiVersion"), data.get("kind")
    problems: list[Diagnostic] = []
    if api_version != API_VERSION:
        problems.append(origin.diagnostic(("apiVersion",), _api_version_message(api_version)))
    if problems:
        return None, problems
    if not isinstance(kind, str):
        problems.append(origin.diagnostic(("kind",), f"kind is required; one of {', '.join(KINDS)}"))
    elif kind not in KINDS:
        problems.append(origin.diagnostic(("kind",), f"unknown kind '{kind}'{did_you_mean(kind, list(KINDS))}"))
    elif expect is not None and kind != expect:
        problems.append(origin.diagnostic(("kind",), f"expected kind {expect} here, found {kind}"))
    elif expect is None and kind == "Fleet":
        problems.append(origin.diagnostic(("kind",), "the Fleet document belongs in fleet.yaml at the fleet root"))
    return (kind if not problems else None), problems


def _api_version_message(api_version: object) -> str:
    if api_version is None:
        return f"apiVersion is required: {API_VERSION}"
    if isinstance(api_version, str) and api_version.startswith("fleetc.io/"):
        return f"unsupported version '{api_version}'; this fleetc reads {API_VERSION}"
    return (
        f"'{api_version}' is not a fleetc document (expected apiVersion {API_VERSION}); "
        "list files that are not part of the fleet under spec.exclude in fleet.yaml"
    )


def validation_diagnostics(origin: Origin, model: type[BaseModel], exc: ValidationError) -> list[Diagnostic]:
    """One located diagnostic per pydantic error, with the YAML field path and an actionable message."""
    return [_diagnostic(origin, model, error) for error in exc.errors(include_url=False)]


def _diagnostic(origin: Origin, model: type[BaseModel], error: ErrorDetails) -> Diagnostic:
    loc = error["loc"]
    field, _ = follow(model, loc)
    if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
        field = (*field, str((error.get("ctx") or {}).get("discriminator", "type")).strip("'"))
    if error["type"] == "extra_forbidden":
        key = str(loc[-1])
        return origin.diagnostic(field, _unknown_field_message(key, allowed_keys(model, loc[:-1])), at_key=True)
    message = without_value(_message(error), format_field_path(field), error.get("input"))
    return origin.diagnostic(field, message, at_key=bool(loc) and loc[-1] == "[key]")


def _unknown_field_message(key: str, allowed: list[str]) -> str:
    message = f"unknown field '{key}'{did_you_mean(key, allowed)}"
    if _SECRETISH.search(key):
        message += "; credentials are referenced with credentialsRef, never written into the fleet"
    return message


def _message(error: ErrorDetails) -> str:
    kind, ctx, value = error["type"], error.get("ctx") or {}, error.get("input")
    if kind == "missing":
        return "required field is missing"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    if kind == "union_tag_not_found":
        return f"required field is missing; one of: {', '.join(_TYPE_TAGS)}"
    if kind == "union_tag_invalid":
        tags = [t.strip(" '") for t in str(ctx.get("expected_tags", "")).split(",")]
        tag = str(ctx.get("tag"))
        return f"'{tag}' is not a known type{did_you_mean(tag, tags)}; one of: {', '.join(tags)}"
    if kind == "string_type" and (isinstance(value, bool) or value is None):
        return f"{error['msg']}; YAML reads unquoted yes/no/on/off/true/false as booleans and ~/null as null: quote it"
    return str(error["msg"])
