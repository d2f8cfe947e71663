"""fleetc: a GitOps fleet compiler, diff tool and rollout engine for Kubernetes Cluster API.

The library API: load and validate a fleet from a folder, a git revision or memory.

>>> from fleetc import DiskTree, validate_tree
>>> result = validate_tree(DiskTree.open("examples/fleet"))
>>> result.ok
True
"""

from fleetc.core.diagnostics import Diagnostic, Severity, SourceLocation
from fleetc.core.errors import FleetcError, FleetNotFoundError, SourceError
from fleetc.load.sources import DiskTree, GitTree, MemoryTree, SourceTree
from fleetc.schema.model import Entry, Fleet
from fleetc.schema.validate import ValidationResult, validate_tree

__all__ = [
    "Diagnostic",
    "DiskTree",
    "Entry",
    "Fleet",
    "FleetNotFoundError",
    "FleetcError",
    "GitTree",
    "MemoryTree",
    "Severity",
    "SourceError",
    "SourceLocation",
    "SourceTree",
    "ValidationResult",
    "validate_tree",
]
