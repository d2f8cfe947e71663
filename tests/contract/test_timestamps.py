"""``metav1.Time`` text: whole seconds, UTC, Z; parsing is the inverse of formatting."""

from __future__ import annotations

import pytest

from fleetc.contract.timestamps import parse_timestamp, timestamp


def test_formats_as_kubernetes_writes_times() -> None:
    assert timestamp(1_767_225_605.9) == "2026-01-01T00:00:05Z"


def test_round_trips_whole_seconds() -> None:
    assert parse_timestamp(timestamp(1_767_225_605)) == 1_767_225_605


def test_rejects_other_forms() -> None:
    with pytest.raises(ValueError):
        parse_timestamp("2026-01-01T00:00:05+00:00")
