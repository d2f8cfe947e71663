"""``metav1.Time`` as text: RFC 3339 in UTC with a ``Z`` and whole seconds, the way Kubernetes writes it.

Callers: whatever writes or reads ``creationTimestamp``, ``deletionTimestamp``, ``lastTransitionTime`` and the
like: the store, conditions, the simulator, the gates, the rollout controller and ``fleetc status``.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime

REMEMBERED = 1 << 12
"""How many recent conversions each direction remembers: a simulation stamps and reads the same few instants over
and over (every condition set at one instant), and ``strftime``/``strptime`` cost microseconds each."""


@functools.lru_cache(maxsize=REMEMBERED)
def timestamp(moment: float) -> str:
    """Seconds since the epoch as RFC 3339 with a Z, as Kubernetes writes times (``2026-01-01T00:00:05Z``)."""
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@functools.lru_cache(maxsize=REMEMBERED)
def parse_timestamp(text: str) -> float:
    """The inverse of :func:`timestamp`."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()
