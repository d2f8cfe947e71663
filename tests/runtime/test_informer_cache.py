"""The informer cache: late and duplicate events change nothing, relists bring watchers up to date."""

from __future__ import annotations

import sys
from typing import Any

from fleetc.runtime.informer import PURGE_MIN, Compactor, InformerCache, backoff


def cm(name: str, rv: int, **data: str) -> dict[str, Any]:
    metadata = {"name": name, "namespace": "ns", "resourceVersion": str(rv)}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": data}


def test_events_are_added_then_modified_then_deleted() -> None:
    cache = InformerCache()
    assert cache.observe("ADDED", cm("a", 5)) == "ADDED"
    assert cache.observe("MODIFIED", cm("a", 6, v="1")) == "MODIFIED"
    assert cache.list()[0]["data"] == {"v": "1"}
    assert cache.observe("DELETED", cm("a", 7)) == "DELETED"
    assert cache.list() == [] and cache.resource_version == "7"


def test_late_and_duplicate_events_are_dropped() -> None:
    cache = InformerCache()
    cache.observe("MODIFIED", cm("a", 10, v="new"))  # a write's own response, before its watch event
    assert cache.observe("MODIFIED", cm("a", 10, v="new")) is None  # the watch's copy
    assert cache.observe("MODIFIED", cm("a", 9, v="old")) is None  # an older event arriving late
    assert cache.list()[0]["data"] == {"v": "new"}
    cache.observe("DELETED", cm("a", 12))
    assert cache.observe("MODIFIED", cm("a", 11)) is None  # a change from before the deletion
    assert cache.list() == []
    assert cache.observe("ADDED", cm("a", 13)) == "ADDED"  # re-created later


def test_a_relist_emits_what_changed_and_keeps_objects_newer_than_the_list() -> None:
    cache = InformerCache()
    assert cache.replace([cm("a", 3), cm("b", 4)], "4") == [("ADDED", cm("a", 3)), ("ADDED", cm("b", 4))]
    cache.observe("ADDED", cm("fresh", 30))  # written after the next list was taken
    events = cache.replace([cm("a", 3), cm("c", 20)], "25")
    assert [(kind, obj["metadata"]["name"]) for kind, obj in events] == [("DELETED", "b"), ("ADDED", "c")]
    assert [o["metadata"]["name"] for o in cache.list()] == ["a", "c", "fresh"]
    assert cache.synced and cache.resource_version == "25"


def test_a_bookmark_moves_the_resource_version_only() -> None:
    cache = InformerCache()
    cache.replace([cm("a", 3)], "3")
    assert cache.observe("BOOKMARK", {"metadata": {"resourceVersion": "40"}}) is None
    assert cache.resource_version == "40" and len(cache.list()) == 1


def test_backoff_is_jittered_and_bounded() -> None:
    delays = [backoff(failures, 0.1, 2.0) for failures in range(1, 12) for _ in range(20)]
    assert all(0 <= d <= 2.0 for d in delays)
    assert len(set(delays)) > 100
    assert max(backoff(1, 0.1, 2.0) for _ in range(50)) <= 0.1


def test_the_cache_keeps_objects_without_managed_fields() -> None:
    managed = [{"manager": "fleetc", "operation": "Apply", "fieldsType": "FieldsV1", "fieldsV1": {"f:data": {}}}]
    listed, watched = cm("a", 5, v="1"), cm("b", 6, v="2")
    listed["metadata"]["managedFields"] = managed
    watched["metadata"]["managedFields"] = managed
    cache = InformerCache()
    events = cache.replace([listed], "5")
    cache.observe("ADDED", watched)
    assert [e[1]["metadata"].get("managedFields") for e in events] == [None]
    assert [o["metadata"].get("managedFields") for o in cache.list()] == [None, None]
    assert [o["data"] for o in cache.list()] == [{"v": "1"}, {"v": "2"}]
    assert listed["metadata"]["managedFields"] == managed  # the caller's object is left as it was


def _condition(kind: str, status: Any) -> dict[str, Any]:
    return {"type": kind, "status": status, "reason": "Ready", "lastTransitionTime": "2026-01-01T00:00:00Z"}


def _machine(name: str, rv: int, ready: Any = "True") -> dict[str, Any]:
    machine = cm(name, rv)
    machine["status"] = {"conditions": [_condition("Ready", ready), _condition("Available", "True")]}
    return machine


def test_the_cache_keeps_equal_parts_of_its_objects_once_and_strings_interned() -> None:
    cache = InformerCache()
    first, second = _machine("a", 5), _machine("b", 6)
    kept_first = cache.replace([first], "5")[0][1]
    cache.observe("ADDED", second)
    kept_second = cache.list()[1]
    assert (kept_first, kept_second) == (first, second)  # equal to what the server sent
    assert kept_first["status"]["conditions"] is kept_second["status"]["conditions"]
    assert kept_first["metadata"] is not kept_second["metadata"]  # different names: not shared
    decoded = "".join(["Rea", "dyX"])  # a string made at run time, as JSON decoding makes them (not interned)
    assert cache.replace([_machine("c", 7, ready=decoded)], "7")  # lists again: the others are gone
    kept = cache.list()[0]["status"]["conditions"][0]["status"]
    assert kept == decoded and kept is sys.intern("".join(["Rea", "dyX"]))
    assert second["status"]["conditions"] is not kept_second["status"]["conditions"]  # the input is left alone


def test_parts_equal_in_python_but_not_in_json_are_not_shared() -> None:
    cache = InformerCache()
    for rv, value in enumerate([1, True, 1.0, "1"], start=1):
        cache.observe("ADDED", _machine(f"m{rv}", rv, ready=value))
    statuses = [o["status"]["conditions"][0]["status"] for o in cache.list()]
    assert [(type(s), s) for s in statuses] == [(int, 1), (bool, True), (float, 1.0), (str, "1")]


def test_parts_no_cached_object_uses_any_more_leave_the_pool() -> None:
    compact = Compactor()
    for n in range(3 * PURGE_MIN):
        compact({"metadata": {"name": f"o{n}"}, "spec": {"n": n}})  # each result dropped at once
    assert compact.pooled <= PURGE_MIN + 2
    kept = [compact({"metadata": {"name": f"k{n}"}, "spec": {"n": n}}) for n in range(2 * PURGE_MIN)]
    assert compact.pooled >= len(kept)  # parts still in use stay (so later equal parts are shared with them)
    assert compact({"metadata": {"name": "k0"}, "spec": {"n": 0}})["spec"] is kept[0]["spec"]
