"""Names, labels and annotations fleetc puts on what it renders.

Class revisions are named ``<class>-<provider>-<hash>``: the hash covers every template of the revision, so
a template change yields a new revision that each cluster adopts only when its own ``classRef`` changes.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from fleetc.core.diagnostics import SourceLocation

GROUP = "fleetc.io"
FLEET_LABEL = f"{GROUP}/fleet"
WAVE_LABEL = f"{GROUP}/wave"
CLASS_LABEL = f"{GROUP}/class"
PROVIDER_LABEL = f"{GROUP}/provider"
SOURCE_ANNOTATION = f"{GROUP}/source"
DECOMMISSION_ANNOTATION = f"{GROUP}/decommission"
"""``"true"`` on a Cluster whose spec entry has ``decommission: true``: removing the entry later deletes the Cluster
(``fleetc apply --allow-delete`` reads it on the live object; docs/spec.md, "Removing a cluster")."""
HASH_LENGTH = 6


def content_hash(objects: Any) -> str:
    """A short, stable hash of plain data (canonical JSON, sorted keys)."""
    canonical = json.dumps(objects, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:HASH_LENGTH]


def class_base(class_name: str, provider_name: str) -> str:
    """The revision-less name of a class on a provider."""
    return f"{class_name}-{provider_name}"


def source_annotation(location: SourceLocation, root: str) -> str:
    """``clusters/eu.yaml:12``: where in the spec an object came from, relative to the fleet root.

    Relative, so the output does not depend on the folder fleetc was run from.
    """
    prefix = root.rstrip("/") + "/" if root not in ("", ".") else ""
    path = location.path[len(prefix) :] if prefix and location.path.startswith(prefix) else location.path
    return f"{path}:{location.line}" if location.line else path
