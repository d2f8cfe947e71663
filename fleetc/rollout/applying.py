"""Applying desired objects: the rollout controller's only way to change the world.

The controller is given an ``Apply`` function (one manifest → create or update it) so the store-specific applier can be
injected: :func:`store_applier` for a :class:`~fleetc.runtime.store.Store` (the embedded plane), server-side apply
with field manager ``fleetc`` for a real management cluster. Updates merge into the live object (maps merged, lists
replaced, status untouched), like a server-side apply by a single manager: fields that CAPI owns on a ``Cluster``
(``controlPlaneRef``, ``infrastructureRef``, defaulted variables…) survive. An object that already holds every desired
value is not written at all. Callers: :mod:`fleetc.rollout.controller` and the CLI (to build an applier).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fleetc.core.keys import Manifest, ObjectKey
from fleetc.runtime.store import Store

Apply = Callable[[Manifest], None]
"""Create or update one object so it holds the desired values."""


def contains(live: Any, desired: Any) -> bool:
    """True when ``live`` already holds every value of ``desired`` (maps may have more keys; lists match in full)."""
    if isinstance(desired, dict):
        return isinstance(live, dict) and all(k in live and contains(live[k], v) for k, v in desired.items())
    if isinstance(desired, list):
        return (
            isinstance(live, list)
            and len(live) == len(desired)
            and all(contains(a, b) for a, b in zip(live, desired, strict=True))
        )
    return bool(live == desired)


def merged(live: Any, desired: Any) -> Any:
    """``desired`` over ``live``: maps merged key by key, anything else replaced."""
    if isinstance(live, dict) and isinstance(desired, dict):
        result = dict(live)
        for k, v in desired.items():
            result[k] = merged(live.get(k), v)
        return result
    return desired


def store_applier(store: Store) -> Apply:
    """An ``Apply`` over a store: create when absent, merge-update when a desired value differs, else nothing."""

    def apply(manifest: Manifest) -> None:
        live = store.find(ObjectKey.of(manifest))
        if live is None:
            store.create(manifest)
        elif not contains(_comparable(live), _comparable(manifest)):
            store.update(merged(live, _comparable(manifest)))

    return apply


def _comparable(manifest: Manifest) -> Manifest:
    return {k: v for k, v in manifest.items() if k != "status"}
