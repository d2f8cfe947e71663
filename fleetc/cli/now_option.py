"""``--now DATE``: the date the lifecycle checks run against (version expiry, machine rotation), for reproducible
runs in tests and CI; default today, UTC. Used by ``fleetc validate`` and ``fleetc plan``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import click

from fleetc.schema.dates import parse_moment, today

F = TypeVar("F", bound=Callable[..., Any])


class _Moment(click.ParamType[datetime]):
    name = "DATE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> datetime:
        try:
            return parse_moment(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


def now_option(command: F) -> F:
    """Add ``--now DATE`` (a ``datetime``, today at 00:00 UTC when not given)."""
    return click.option(
        "--now",
        type=_Moment(),
        default=None,
        callback=lambda _ctx, _param, value: value or today(),
        help="Check version expiry and machine rotation as on this date (2026-12-01; default: today, UTC).",
    )(command)
