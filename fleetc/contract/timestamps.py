"""``metav1.Time`` as text: RFC 3339 in UTC with a ``Z`` and whole seconds, the way Kubernetes writes it.

Callers: whatever writes or reads ``creationTimestamp``, ``deletionTimestamp``, ``lastTransitionTime`` and the
like: the store, conditions, the simulator, the gates, the rollout controller and ``fleetc status``.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from functools import lru_cache

MEMO_SIZE = 65_536
"""Timestamps remembered both ways. A simulation writes the same few instants into many objects: one string per
second, shared by every object that carries it, instead of one per write (time and memory)."""


def timestamp(moment: float) -> str:
    """Seconds since the epoch as RFC 3339 with a Z, as Kubernetes writes times (``2026-01-01T00:00:05Z``)."""
    return _second(math.floor(moment))


@lru_cache(maxsize=MEMO_SIZE)
def _second(second: int) -> str:
    return datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@lru_cache(maxsize=MEMO_SIZE)
def parse_timestamp(text: str) -> float:
    """The inverse of :func:`timestamp`."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()
