"""What every simulated controller shares: the store, its read cache, the clock, the provider and the seed.

Writes go through :class:`SimContext` so that nothing is written that would not change the stored object
(CAPI's patch helpers compute a diff and skip empty patches, ``util/patch/patch.go``), which keeps watch
traffic, and so reconciles, to what a change really needs. Writes hand their objects to the store without
copies (:meth:`fleetc.runtime.store.Store.replace`, :meth:`fleetc.runtime.store.Store.replace_status`): the
controllers build every new status and spec afresh and never modify an object once written or read.

Also here: the event filters the controllers' watches use, in place of controller-runtime's predicates.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from fleetc.contract.vocabulary import GroupKind
from fleetc.core.errors import AlreadyExists, NotFound
from fleetc.core.keys import Manifest, ObjectKey
from fleetc.runtime.clock import Clock
from fleetc.runtime.manager import DONE, Mapper, Result
from fleetc.runtime.store import Store
from fleetc.sim.api import random_suffix
from fleetc.sim.cache import ObjectCache
from fleetc.sim.infra import InfrastructureProvider

NAME_ATTEMPTS = 20


@dataclass
class SimContext:
    """The shared state of the simulated management plane."""

    store: Store
    cache: ObjectCache
    clock: Clock
    provider: InfrastructureProvider
    seed: int
    enqueue: Callable[[str, ObjectKey, float], None] | None = None
    """The manager's ``enqueue(controller, key, after)``, for watches that coalesce (see :func:`coalesced`)."""
    writes: int = 0
    """Writes made through this context (creates, changes and deletions; a write that would change nothing is not
    made and not counted): a reconciler compares it before and after a step to learn whether the step wrote."""

    def now(self) -> float:
        """The current (virtual or real) time."""
        return self.clock.now()

    def fresh_name(self, group_kind: GroupKind, namespace: str, prefix: str, *parts: object) -> str:
        """``<prefix>-<5 random chars>``, not taken by an existing object of that kind."""
        for attempt in range(NAME_ATTEMPTS):
            suffix = random_suffix(self.seed, *group_kind, namespace, prefix, self.now(), attempt, *parts)
            name = f"{prefix}-{suffix}"
            if self.cache.get(group_kind, namespace, name) is None:
                return name
        raise AlreadyExists(f"no free name for {prefix}-xxxxx after {NAME_ATTEMPTS} attempts")

    def create(self, obj: Manifest) -> None:
        """Create an object; the store assigns uid, generation and timestamps."""
        self.writes += 1
        self.store.add(obj)

    def write_status(self, obj: Manifest, status: dict[str, Any]) -> bool:
        """Replace ``status`` when it differs from the stored one (the store keeps ``status``); True when written."""
        if obj.get("status") == status:
            return False
        self.writes += 1
        self.store.replace_status({**obj, "status": status})
        return True

    def write(self, obj: Manifest, **changes: Any) -> bool:
        """Replace top-level fields (``spec=…``, ``metadata=…``) when they differ (the store keeps them); True when
        written."""
        if all(obj.get(field) == value for field, value in changes.items()):
            return False
        self.writes += 1
        self.store.replace({**obj, **changes})
        return True

    def delete(self, obj: Manifest) -> None:
        """Delete an object (it may linger while finalizers remain)."""
        self.writes += 1
        try:
            self.store.delete(ObjectKey.of(obj))
        except NotFound:
            return


def with_metadata(obj: Manifest, **fields: Any) -> dict[str, Any]:
    """``metadata`` with some fields replaced (a field set to None is removed); a new dict, sharing the rest."""
    metadata: dict[str, Any] = dict(obj["metadata"])
    for field, value in fields.items():
        if value is None:
            metadata.pop(field, None)
        else:
            metadata[field] = value
    return metadata


class SettledFilter:
    """Skips a reconcile when its object is as this reconciler last left it and no other input woke it.

    Each status write re-queues the writer itself (a watch on its own kind, as in controller-runtime); the pass
    that follows would recompute the same status. controller-runtime avoids it with predicates; here a key is
    *settled* when a reconcile finished, and stays settled while the object's resourceVersion is unchanged, none of
    the reconciler's other watches mapped to it (those go through :meth:`waking`) and the time it asked to run
    again (``requeue_after``) has not come. Level-triggered semantics are kept: any change to what a reconcile
    reads reaches it through a watch, and a reconcile that depends on time asks to run again when that matters.
    """

    def __init__(self, ctx: SimContext) -> None:
        self._cache = ctx.cache
        self._now = ctx.now
        self._settled: dict[tuple[str, str], tuple[str, float]] = {}
        """(resourceVersion, settled until) by (namespace, name): the kind is the reconciler's own."""

    def settled(self, key: ObjectKey, obj: Manifest | None) -> bool:
        """True when nothing changed since the last finished reconcile of ``key`` (False for a missing object)."""
        found = self._settled.get((key.namespace, key.name))
        if obj is not None and found is not None:
            version, until = found
            if version == obj["metadata"]["resourceVersion"] and self._now() < until:
                return True
        self._settled.pop((key.namespace, key.name), None)
        return False

    def holds(self, key: ObjectKey) -> bool:
        """True when a reconcile of ``key`` now would skip (:meth:`settled`, without forgetting anything)."""
        found = self._settled.get((key.namespace, key.name))
        if found is None:
            return False
        current = self._cache.find(key)
        return current is not None and found[0] == current["metadata"]["resourceVersion"] and self._now() < found[1]

    def rest(self, key: ObjectKey) -> Result:
        """What a skipped reconcile returns: run again when the settled pass asked to. The manager keeps one queue
        entry per key, the earliest: the settled pass's own requeue may have given way to the watch event this
        skipped pass came from, so it is asked for again."""
        found = self._settled.get((key.namespace, key.name))
        if found is None or math.isinf(found[1]):
            return DONE
        return Result(requeue_after=found[1] - self._now())

    def settle(self, key: ObjectKey, result: Result) -> Result:
        """Record that ``key`` is settled until it asked to run again (for good without a requeue); returns
        ``result``."""
        current = self._cache.find(key)
        if current is not None:
            until = math.inf if result.requeue_after is None else self._now() + result.requeue_after
            self._settled[(key.namespace, key.name)] = (current["metadata"]["resourceVersion"], until)
        return result

    def reset(self) -> None:
        """Nothing is settled any more (an input no watch sees changed, such as the provider's faults)."""
        self._settled.clear()

    def waking(self, mapper: Mapper) -> Mapper:
        """A watch mapper whose keys are unsettled (they must really run)."""

        def wake(obj: Manifest) -> Iterable[ObjectKey]:
            keys = list(mapper(obj))
            for found in keys:
                self._settled.pop((found.namespace, found.name), None)
            return keys

        return wake


class SettlingReconciler:
    """Base of the simulated controllers that skip settled objects (:class:`SettledFilter`): the pass their own
    write to their object would queue is not queued when it would skip
    (:class:`~fleetc.runtime.manager.AbsorbsOwnWrites`)."""

    gate: SettledFilter

    def absorbs_own_write(self, key: ObjectKey) -> bool:
        """True when ``key`` is settled: a reconcile now would skip."""
        return self.gate.holds(key)


_UNSEEN = object()


class ChangedView:
    """A watch mapper that maps an object only when the part of it the watcher reads has changed.

    controller-runtime filters events with predicates (``ResourceVersionChangedPredicate``,
    ``GenerationChangedPredicate``…); this is the same idea with an explicit view: an event whose view equals
    the previous event's for that object maps to nothing. Deleting objects always map.
    """

    def __init__(self, view: Callable[[Manifest], Any], mapper: Mapper, *, map_first: bool = False) -> None:
        """``map_first``: the mapper is cheaper than the view and often maps to nothing (an owner reference of
        another kind), so it runs first and the view is computed only for objects that map somewhere."""
        self._view = view
        self._mapper = mapper
        self._map_first = map_first
        self._last: dict[tuple[str, str], Any] = {}

    def __call__(self, obj: Manifest) -> Iterable[ObjectKey]:
        key = (obj["metadata"].get("namespace", ""), obj["metadata"]["name"])
        if "deletionTimestamp" in obj["metadata"]:
            self._last.pop(key, None)
            return self._mapper(obj)
        keys = list(self._mapper(obj)) if self._map_first else None
        if keys == []:
            return keys
        seen = self._view(obj)
        if self._last.get(key, _UNSEEN) == seen:
            return []
        self._last[key] = seen
        return keys if keys is not None else self._mapper(obj)


COALESCE_DELAY = 0.5
"""Seconds a coalesced watch waits: every event of one instant lands in a single later reconcile."""


def coalesced(ctx: SimContext, controller: str, mapper: Mapper) -> Mapper:
    """A watch mapper that queues its keys a moment later instead of now (controller-runtime's ``AddAfter``).

    A Cluster hears from its control plane and each MachineDeployment as one Machine change ripples up through
    them at the same instant; waiting half a (virtual) second lets the ripple finish, so the Cluster's status
    is recomputed and written once per instant instead of once per intermediate step.
    """
    enqueue = ctx.enqueue
    if enqueue is None:
        return mapper

    def later(obj: Manifest) -> Iterable[ObjectKey]:
        for found in mapper(obj):
            enqueue(controller, found, COALESCE_DELAY)
        return []

    return later
