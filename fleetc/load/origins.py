"""Origins: where a document's fields were written, so any later finding can name file, line and column.

A plain document's origin is its own node tree. A cluster expanded from a ``ClusterSet`` points into the
generator's template (``prefix``) and says which matrix item it is (``context``), so its errors land on the
generator's lines.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml

from fleetc.core.diagnostics import Diagnostic, FieldPath, Severity, SourceLocation, format_field_path
from fleetc.load.yamlio import YamlDocument, locate, mark_location


@dataclass(frozen=True)
class Origin:
    """The node tree a document's fields come from."""

    path: str
    node: yaml.Node
    prefix: FieldPath = ()
    context: str = ""

    @classmethod
    def of(cls, document: YamlDocument) -> Origin:
        """The origin of a document as written."""
        return cls(document.path, document.node)

    def locate(self, field: FieldPath, *, at_key: bool = False) -> tuple[SourceLocation, FieldPath]:
        """Location of the deepest written node along ``field`` and the written part of the path."""
        mark, found = locate(self.node, (*self.prefix, *field), at_key=at_key)
        return mark_location(self.path, mark), found

    def source(self) -> SourceLocation:
        """Where the document (or its generator template) starts."""
        return self.locate(())[0]

    def diagnostic(
        self,
        field: FieldPath,
        message: str,
        *,
        at_key: bool = False,
        severity: Severity = Severity.ERROR,
        code: str = "",
    ) -> Diagnostic:
        """A diagnostic about ``field`` of this document, at the closest written position."""
        location, _ = self.locate(field, at_key=at_key)
        return Diagnostic(location, format_field_path((*self.prefix, *field)), message, severity, code, self.context)
