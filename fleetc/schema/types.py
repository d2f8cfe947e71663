"""Constrained scalar types of the spec: names, versions, durations, counts-or-percentages, CIDRs, labels.

Each type validates with a message a person can act on and exports a JSON Schema an editor can use.
Numbers are bounded by what the Kubernetes API and the simulation accept (replicas are int32, version parts
have at most four digits, durations at most a year), so a hostile value is a diagnostic here rather than a
hang or a crash in a later stage.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import AfterValidator, PlainSerializer, PlainValidator, WithJsonSchema

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_LABEL_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
_VERSION = re.compile(r"^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")
_VERSION_PATTERN = r"^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$"
_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_DURATION_PATTERN = r"^(\d+h)?(\d+m)?(\d+s)?$"
_AMOUNT_PATTERN = r"^\d+%$"
_PERCENT_SCHEMA_PATTERN = r"^(0{0,2}[0-9]|0?[1-9][0-9]|100)%$"
"""The percentages :func:`parse_amount` accepts (0 to 100, at most 3 digits), for JSON Schema."""
_IPV4 = r"((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4_CIDR_PATTERN = rf"^{_IPV4}(/(0*(3[0-2]|[12]?[0-9])|{_IPV4}))?$"
_IPV6_CIDR_PATTERN = r"^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*(/0*(12[0-8]|1[01][0-9]|[1-9]?[0-9]))?$"
_DNS_SUBDOMAIN_PATTERN = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
_LABEL_KEY_PATTERN = rf"^(({_DNS_SUBDOMAIN_PATTERN})?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{{0,61}}[A-Za-z0-9])?$"
"""The label keys :func:`check_label_key` accepts (but a prefix's 253-character limit), for JSON Schema."""
_LABEL_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_LABEL_VALUE_PATTERN = r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$"
_LABEL_VALUE = re.compile(_LABEL_VALUE_PATTERN)

MAX_INT32 = 2**31 - 1
"""Replicas and counts are int32 in the Kubernetes API."""
MAX_VERSION_PART = 9999
"""Largest major, minor or patch of a Kubernetes version fleetc accepts (real ones have two digits)."""
MAX_DURATION_SECONDS = 366 * 24 * 3600
"""Longest soak, deadline or timeout: a year (8784h)."""
_MAX_SHOWN = 100


def shown(value: object) -> str:
    """A value for a message, cut to a readable length."""
    text = str(value)
    return text if len(text) <= _MAX_SHOWN else f"{text[:_MAX_SHOWN]}… ({len(text):,} characters)"


def check_dns_label(value: str) -> str:
    """A DNS-1123 label: it becomes an object name and a folder name."""
    if len(value) > 63 or not _DNS_LABEL.match(value):
        raise ValueError(
            f"'{shown(value)}' is not a DNS-1123 label (lowercase letters, digits and '-', starting and ending "
            "with a letter or digit, at most 63 characters); names become object names and file paths"
        )
    return value


def check_version(value: str) -> str:
    """A Kubernetes version written ``vX.Y.Z``."""
    if not _VERSION.match(value):
        hint = f"; write 'v{shown(value)}'" if _VERSION.match(f"v{value}") else ""
        raise ValueError(f"'{shown(value)}' is not a Kubernetes version of the form vX.Y.Z{hint}")
    for part, digits in zip(("major", "minor", "patch"), value[1:].split("."), strict=True):
        if len(digits) > len(str(MAX_VERSION_PART)):
            raise ValueError(f"'{shown(value)}': {part} version {shown(digits)} is over {MAX_VERSION_PART}")
    return value


def parse_duration(value: object) -> int:
    """``'1h30m'`` → 5400 seconds. Durations are strings with units, as in Kubernetes."""
    if isinstance(value, bool) or not isinstance(value, str):
        raise ValueError(f"'{value}' is not a duration; write it with a unit, such as '90s', '10m' or '1h30m'")
    match = _DURATION.match(value)
    if not value or not match:
        raise ValueError(f"'{shown(value)}' is not a duration; use h, m and s, such as '90s', '10m' or '1h30m'")
    too_long = (
        f"'{shown(value)}' is longer than {format_duration(MAX_DURATION_SECONDS)}, the longest duration fleetc accepts"
    )
    if any(g and len(g) > len(str(MAX_DURATION_SECONDS)) for g in match.groups()):
        raise ValueError(too_long)
    hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
    total = hours * 3600 + minutes * 60 + seconds
    if total > MAX_DURATION_SECONDS:
        raise ValueError(too_long)
    return total


def format_duration(seconds: int) -> str:
    """5400 → ``'1h30m'``; the inverse of :func:`parse_duration`."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "") + (f"{secs}s" if secs else "")
    return text or "0s"


@dataclass(frozen=True)
class Amount:
    """A count (``2``) or a percentage of a total (``'25%'``)."""

    value: int
    percent: bool = False

    def of(self, total: int, *, at_least: int = 0) -> int:
        """The count this amount means out of ``total`` (percentages round down)."""
        count = total * self.value // 100 if self.percent else self.value
        return max(count, at_least)

    def __str__(self) -> str:
        return f"{self.value}%" if self.percent else str(self.value)


def parse_amount(value: object) -> Amount:
    """``3`` → Amount(3); ``'25%'`` → Amount(25, percent=True)."""
    if isinstance(value, int) and not isinstance(value, bool) and value > MAX_INT32:
        raise ValueError(f"{shown(value)} is over {MAX_INT32}, the largest count the Kubernetes API accepts")
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return Amount(value)
    if isinstance(value, str) and len(value) <= 4 and re.fullmatch(_AMOUNT_PATTERN, value) and int(value[:-1]) <= 100:
        return Amount(int(value[:-1]), percent=True)
    raise ValueError(f"'{shown(value)}' is neither a count (0 or more) nor a percentage such as '25%'")


def check_cidr(value: str) -> str:
    """An IPv4 or IPv6 network in CIDR notation with no host bits set."""
    try:
        ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise ValueError(f"'{shown(value)}' is not a CIDR block ({exc})") from None
    return value


def check_label_key(value: str) -> str:
    """A Kubernetes label key: optional DNS prefix, '/', and a name of at most 63 characters."""
    prefix, _, name = value.rpartition("/")
    prefix_ok = not prefix or (len(prefix) <= 253 and all(_DNS_LABEL.match(p) for p in prefix.split(".")))
    if not (prefix_ok and len(name) <= 63 and _LABEL_NAME.match(name)):
        raise ValueError(f"'{shown(value)}' is not a valid Kubernetes label key")
    return value


def check_label_value(value: str) -> str:
    """A Kubernetes label value: at most 63 characters, alphanumeric at both ends."""
    if len(value) > 63 or not _LABEL_VALUE.match(value):
        raise ValueError(f"'{shown(value)}' is not a valid Kubernetes label value")
    return value


def _amount_json(amount: Amount) -> int | str:
    return str(amount) if amount.percent else amount.value


def _string_schema(pattern: str, description: str, **extra: Any) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", "pattern": pattern, "description": description, **extra})


Name = Annotated[
    str,
    AfterValidator(check_dns_label),
    _string_schema(_DNS_LABEL_PATTERN, "A DNS-1123 label.", maxLength=63),
]
KubernetesVersion = Annotated[
    str, AfterValidator(check_version), _string_schema(_VERSION_PATTERN, "A Kubernetes version, vX.Y.Z.")
]
Duration = Annotated[
    int,
    PlainValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
    _string_schema(_DURATION_PATTERN, "A duration such as '90s', '10m' or '1h30m'.", minLength=2),
]
AmountField = Annotated[
    Amount,
    PlainValidator(parse_amount),
    PlainSerializer(_amount_json),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": 0, "maximum": MAX_INT32},
                {"type": "string", "pattern": _PERCENT_SCHEMA_PATTERN},
            ],
            "description": "A count, or a percentage such as '25%'.",
        }
    ),
]
Cidr = Annotated[
    str,
    AfterValidator(check_cidr),
    WithJsonSchema(
        {
            "type": "string",
            "anyOf": [{"pattern": _IPV4_CIDR_PATTERN}, {"pattern": _IPV6_CIDR_PATTERN}],
            "description": "A CIDR (that no host bits are set: fleetc validate).",
        }
    ),
]
LabelKey = Annotated[
    str,
    AfterValidator(check_label_key),
    _string_schema(_LABEL_KEY_PATTERN, "A label key: [DNS prefix/]name.", maxLength=317),
]
LabelValue = Annotated[
    str,
    AfterValidator(check_label_value),
    _string_schema(_LABEL_VALUE_PATTERN, "A label value.", maxLength=63),
]
Labels = dict[LabelKey, LabelValue]
