"""Names fleetc derives from spec names, and the limits the APIs put on them.

A worker pool spread across failure domains becomes one MachineDeployment topology per domain, named
``<pool>-<domain>``. CAPI keys ``spec.topology.workers.machineDeployments`` on that name and requires a DNS
label of at most 63 characters, so a domain that is not already a DNS label (``Zone_A``) or a name that would
be too long gets a short hash of the domain: two different domains never map to one name. Names that still
collide (a pool called like another pool plus a domain) are rejected by :mod:`fleetc.schema.limits`.

Callers: :mod:`fleetc.render.cluster` (the names it writes) and :mod:`fleetc.schema.limits` (the rules).
"""

from __future__ import annotations

import hashlib
import re

MAX_LABEL = 63
"""A DNS-1123 label: MachineDeployment topology names, label values, most object names."""
HASH_LENGTH = 6
CONTROL_PLANE_ROLE = "control-plane"
"""The control plane's role name; its templates are ``<revision>-control-plane``, so no pool may be called so."""


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:HASH_LENGTH]


def label_of(text: str) -> str:
    """Free text as a DNS-1123 label, possibly lossy (``Zone_A`` → ``zone-a``)."""
    return re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")[:MAX_LABEL].rstrip("-") or "x"


def deployment_name(pool: str, failure_domain: str | None = None) -> str:
    """The MachineDeployment topology name of a pool, or of its share in one failure domain.

    ``general`` + ``eu-west-1a`` → ``general-eu-west-1a``; ``general`` + ``Zone_A`` → ``general-zone-a-<hash>``.
    Always a DNS label of at most 63 characters; a hash of the domain is added whenever the plain form would
    lose information (case, characters outside a label) or be too long.
    """
    if failure_domain is None:
        return pool
    label = label_of(failure_domain)
    name = f"{pool}-{label}"
    if label == failure_domain and len(name) <= MAX_LABEL:
        return name
    keep = MAX_LABEL - HASH_LENGTH - 1
    return f"{name[:keep].rstrip('-')}-{_short_hash(failure_domain)}"
