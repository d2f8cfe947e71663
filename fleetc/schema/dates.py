"""Dates and moments in the spec (``rotateAfter``, version ``expires``) and the ``--now`` of a check.

Written as ``2026-12-01`` (midnight UTC) or RFC 3339 (``2026-12-01T09:00:00Z``, any offset); held as an aware UTC
``datetime`` and written back the way Kubernetes writes times (``2026-12-01T00:00:00Z``). Callers: the spec models
(:mod:`fleetc.schema.rotation`, :mod:`fleetc.schema.fleet`), the lifecycle rules and the CLI's ``--now``.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated

from pydantic import PlainSerializer, PlainValidator, WithJsonSchema

from fleetc.schema.types import shown

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_PATTERN = r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$"


def parse_moment(value: object) -> datetime:
    """``'2026-12-01'`` → 2026-12-01 00:00 UTC; ``'2026-12-01T09:00:00+01:00'`` → 08:00 UTC."""
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if not isinstance(value, str) or not re.match(_PATTERN, value):
        raise ValueError(f"'{shown(str(value))}' is not a date; write 2026-12-01 or 2026-12-01T09:00:00Z")
    try:
        if _DATE.match(value):
            return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError as exc:
        raise ValueError(f"'{shown(value)}' is not a calendar date ({exc})") from None


def rfc3339(moment: datetime) -> str:
    """A moment as Kubernetes writes times: UTC, whole seconds, ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def day(moment: datetime) -> str:
    """The UTC day of a moment, ``2026-12-01``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d")


def today() -> datetime:
    """The start of today, UTC: the default ``--now`` (read here, at the edge, once per command)."""
    now = datetime.now(UTC)
    return datetime(now.year, now.month, now.day, tzinfo=UTC)


Moment = Annotated[
    datetime,
    PlainValidator(parse_moment),
    PlainSerializer(rfc3339, return_type=str),
    WithJsonSchema(
        {"type": "string", "pattern": _PATTERN, "description": "A date (2026-12-01, UTC) or RFC 3339 time."}
    ),
]
