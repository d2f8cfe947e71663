"""Leader election semantics (client-go's): acquire, renew, expiry on the candidate's own clock, release, and the
renew deadline after which a leader stops acting. Over the in-memory store, with clocks the test moves."""

from __future__ import annotations

import pytest

from fleetc.engine.leader import ElectionConfig, LeaderElector, next_record, record_of
from fleetc.runtime.clock import VirtualClock
from fleetc.runtime.memory import MemoryStore

CONFIG = {"namespace": "fleetc-system", "name": "fleetc-controller", "lease_duration": 15.0,
          "renew_deadline": 10.0, "retry_period": 2.0}  # fmt: skip


class Clocks:
    """One wall clock and one monotonic clock per candidate, moved by the test."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def advance(self, seconds: float) -> None:
        self.now += seconds


def candidate(store: MemoryStore, clocks: Clocks, identity: str) -> LeaderElector:
    return LeaderElector(store, ElectionConfig(identity=identity, **CONFIG),  # type: ignore[arg-type]
                         wall=lambda: clocks.now, monotonic=lambda: clocks.now)  # fmt: skip


def lease(store: MemoryStore) -> dict[str, object]:
    found = store.find(ElectionConfig(identity="x", **CONFIG).key)  # type: ignore[arg-type]
    return record_of(found)


@pytest.fixture
def plane() -> tuple[MemoryStore, Clocks]:
    return MemoryStore(VirtualClock()), Clocks()


def test_the_first_candidate_creates_the_lease_and_the_second_waits(plane: tuple[MemoryStore, Clocks]) -> None:
    store, clocks = plane
    a, b = candidate(store, clocks, "a"), candidate(store, clocks, "b")
    assert a.try_acquire_or_renew() and a.is_leader()
    assert not b.try_acquire_or_renew() and not b.is_leader()
    record = lease(store)
    assert record["holderIdentity"] == "a" and record["leaseTransitions"] == 0
    assert record["leaseDurationSeconds"] == 15 and record["acquireTime"] == record["renewTime"]


def test_renewing_moves_renew_time_only(plane: tuple[MemoryStore, Clocks]) -> None:
    store, clocks = plane
    a = candidate(store, clocks, "a")
    a.try_acquire_or_renew()
    first = lease(store)
    clocks.advance(2)
    assert a.try_acquire_or_renew()
    second = lease(store)
    assert second["acquireTime"] == first["acquireTime"] and second["renewTime"] != first["renewTime"]
    assert second["leaseTransitions"] == 0


def test_a_standby_takes_over_once_the_record_stood_still_for_the_lease_duration(
    plane: tuple[MemoryStore, Clocks],
) -> None:
    store, clocks = plane
    a, b = candidate(store, clocks, "a"), candidate(store, clocks, "b")
    a.try_acquire_or_renew()
    assert not b.try_acquire_or_renew()  # b starts observing the record now
    clocks.advance(14.9)
    assert not b.try_acquire_or_renew()
    assert not a.is_leader()  # a has not renewed for longer than its renew deadline: it stopped acting
    clocks.advance(0.2)
    assert b.try_acquire_or_renew() and b.is_leader()
    record = lease(store)
    assert record["holderIdentity"] == "b" and record["leaseTransitions"] == 1
    assert not a.try_acquire_or_renew()  # a's next attempt finds b's valid lease


def test_a_renewing_leader_keeps_the_lease_however_long_the_standby_waits(plane: tuple[MemoryStore, Clocks]) -> None:
    store, clocks = plane
    a, b = candidate(store, clocks, "a"), candidate(store, clocks, "b")
    for _ in range(20):
        assert a.try_acquire_or_renew()
        assert not b.try_acquire_or_renew()
        clocks.advance(2)
    assert lease(store)["holderIdentity"] == "a"


def test_release_clears_the_holder_and_a_standby_takes_over_at_once(plane: tuple[MemoryStore, Clocks]) -> None:
    store, clocks = plane
    a, b = candidate(store, clocks, "a"), candidate(store, clocks, "b")
    a.try_acquire_or_renew()
    assert not b.try_acquire_or_renew()
    assert a.release() and not a.is_leader()
    released = lease(store)
    assert "holderIdentity" not in released and released["leaseDurationSeconds"] == 1
    assert b.try_acquire_or_renew()
    assert lease(store)["leaseTransitions"] == 1


def test_next_record_refuses_a_valid_foreign_lease_and_takes_an_expired_one() -> None:
    held = {"holderIdentity": "a", "leaseDurationSeconds": 15, "leaseTransitions": 4}
    assert next_record(held, "b", expired=False, duration=15, now=0) is None
    taken = next_record(held, "b", expired=True, duration=15, now=0)
    assert taken is not None and taken["holderIdentity"] == "b" and taken["leaseTransitions"] == 5


def test_timings_must_nest() -> None:
    with pytest.raises(ValueError, match="lease duration > renew deadline"):
        ElectionConfig("ns", "n", "me", lease_duration=5, renew_deadline=5, retry_period=1)
