"""Clocks: real time, or virtual time that jumps to the next due event.

A virtual clock lets a rollout of 1,000 clusters that would take days run in seconds, deterministically:
nothing in the runtime reads the wall clock, everything asks the clock it was given.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Protocol

EPOCH = datetime(2026, 1, 1, tzinfo=UTC).timestamp()
"""Virtual time starts here, so timestamps in simulated objects look real and are reproducible."""


class Clock(Protocol):
    """Seconds since the Unix epoch, and a way to wait until a moment."""

    def now(self) -> float:
        """The current time."""
        ...

    def wait_until(self, moment: float) -> None:
        """Block (real) or jump (virtual) until ``moment``."""
        ...

    def real_delay(self, moment: float) -> float:
        """Real seconds until ``moment`` (0 for virtual time, which jumps): how long a runtime may wait for events."""
        ...


class VirtualClock:
    """Time that moves only when the runtime has nothing due before a later moment."""

    def __init__(self, start: float = EPOCH) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def wait_until(self, moment: float) -> None:
        self._now = max(self._now, moment)

    def real_delay(self, moment: float) -> float:
        return 0.0


class RealClock:
    """Wall-clock time, optionally sped up (``speed=60``: a simulated minute per real second)."""

    def __init__(self, speed: float = 1.0, start: float | None = None) -> None:
        self._speed = speed
        self._origin_real = time.monotonic()
        self._origin = time.time() if start is None else start

    def now(self) -> float:
        return self._origin + (time.monotonic() - self._origin_real) * self._speed

    def wait_until(self, moment: float) -> None:
        delay = self.real_delay(moment)
        if delay > 0:
            time.sleep(delay)

    def real_delay(self, moment: float) -> float:
        return max(0.0, (moment - self.now()) / self._speed)
