"""Checks rendered objects against real CustomResourceDefinition schemas, strictly.

The OpenAPI v3 schema of each served CRD version becomes a JSON Schema where unknown fields are errors
(unless the CRD says ``x-kubernetes-preserve-unknown-fields``), ``nullable`` and ``int-or-string`` mean what
the API server means, and CRD ``default`` values are applied before checking, as the API server does.
CEL rules (``x-kubernetes-validations``) are not evaluated.

Callers: ``fleetc validate --rendered`` and the compiler's tests.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from fleetc.core.diagnostics import format_field_path
from fleetc.core.keys import Manifest

GroupVersionKind = tuple[str, str, str]


def _convert(schema: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in ("properties", "patternProperties"):
            out[key] = {name: _convert(child) for name, child in value.items()}
        elif key in ("items", "additionalProperties", "not") and isinstance(value, dict):
            out[key] = _convert(value)
        elif key in ("allOf", "anyOf", "oneOf"):
            out[key] = [_convert(child) for child in value]
        elif not key.startswith("x-kubernetes-") and key not in ("nullable", "format"):
            out[key] = value
    if schema.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if schema.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"]
    preserve = schema.get("x-kubernetes-preserve-unknown-fields")
    if "properties" in schema and "additionalProperties" not in schema and not preserve:
        out["additionalProperties"] = False
    return out


def apply_defaults(value: Any, schema: dict[str, Any]) -> Any:
    """A copy of ``value`` with the schema's ``default`` values filled in where fields are absent."""
    if isinstance(value, dict):
        result = dict(value)
        for name, child in schema.get("properties", {}).items():
            if name not in result and "default" in child:
                result[name] = copy.deepcopy(child["default"])
            if name in result:
                result[name] = apply_defaults(result[name], child)
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            known = schema.get("properties", {})
            result = {k: (v if k in known else apply_defaults(v, extra)) for k, v in result.items()}
        return result
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [apply_defaults(item, schema["items"]) for item in value]
    return value


@dataclass(frozen=True)
class SchemaViolation:
    """One way an object breaks its CRD schema."""

    path: tuple[str | int, ...]
    message: str

    @property
    def dotted(self) -> str:
        """The path as ``spec.workers[0].name``."""
        return format_field_path(self.path)

    def __str__(self) -> str:
        return f"{self.dotted or '<root>'}: {self.message}"


@dataclass(frozen=True)
class CrdSchemas:
    """The schemas of served CRD versions, by (group, version, kind)."""

    raw: dict[GroupVersionKind, dict[str, Any]]
    _validators: dict[GroupVersionKind, jsonschema.Draft7Validator] = field(default_factory=dict, compare=False)

    @classmethod
    def from_documents(cls, documents: Iterable[Any]) -> CrdSchemas:
        """Schemas from parsed CRD documents (other documents are ignored)."""
        raw: dict[GroupVersionKind, dict[str, Any]] = {}
        for crd in documents:
            if not isinstance(crd, dict) or crd.get("kind") != "CustomResourceDefinition":
                continue
            spec = crd["spec"]
            for version in spec["versions"]:
                if version.get("served", True) and "schema" in version:
                    key = (spec["group"], version["name"], spec["names"]["kind"])
                    raw[key] = version["schema"]["openAPIV3Schema"]
        return cls(raw)

    @classmethod
    def load(cls, folders: Iterable[Path]) -> CrdSchemas:
        """Schemas from every ``*.yaml`` CRD file in the given folders."""
        documents: list[Any] = []
        for folder in folders:
            for path in sorted(Path(folder).glob("*.yaml")):
                documents.extend(yaml.load_all(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))
        return cls.from_documents(documents)

    def knows(self, manifest: Manifest) -> bool:
        """True when a schema exists for the manifest's apiVersion and kind."""
        return _gvk(manifest) in self.raw

    def violations(self, manifest: Manifest) -> list[SchemaViolation]:
        """Every schema violation of one object, after CRD defaulting."""
        gvk = _gvk(manifest)
        schema = self.raw.get(gvk)
        if schema is None:
            return [SchemaViolation((), f"no CRD serves {manifest.get('apiVersion')} {manifest.get('kind')}")]
        defaulted = apply_defaults(manifest, schema)
        validator = self._validators.get(gvk)
        if validator is None:
            validator = self._validators[gvk] = jsonschema.Draft7Validator(_convert(schema))
        errors = sorted(validator.iter_errors(defaulted), key=lambda e: [str(p) for p in e.path])
        return [violation for error in errors for violation in _violations(error)]


def _gvk(manifest: Manifest) -> GroupVersionKind:
    group, _, version = str(manifest.get("apiVersion", "")).rpartition("/")
    return group, version, str(manifest.get("kind", ""))


def _violations(error: jsonschema.ValidationError) -> list[SchemaViolation]:
    """One violation per problem; an unknown field is reported at the field itself, not at its parent."""
    path = tuple(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
        unknown = [key for key in error.instance if key not in known]
        if unknown:
            return [SchemaViolation((*path, key), f"unknown field '{key}' (not in the CRD schema)") for key in unknown]
    return [SchemaViolation(path, error.message)]
