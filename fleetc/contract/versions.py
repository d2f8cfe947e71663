"""Kubernetes versions as CAPI reads them: the one parser, their order, and the rules CAPI keeps between them.

A version is ``vMAJOR.MINOR.PATCH`` with an optional semver pre-release (``-rc.1``) and build metadata
(``+build.5``); like CAPI's ``semver.ParseTolerant`` the leading ``v`` may be left out. Order is semver
precedence: a pre-release sorts before its release, build metadata does not count.

Rules (CAPI v1.14 and the Kubernetes version-skew policy):

- a version never goes down: CAPI cannot roll back a control plane (:func:`is_downgrade`);
- kubelets may lag the API server by at most :data:`MAX_WORKER_SKEW` minors (:func:`minor_skew`).

Callers: :mod:`fleetc.contract.upgrades`, the spec's catalogue rules, plan policy, the rollout controller's
refusal to roll back and the simulated topology controller.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

MAX_WORKER_SKEW = 3
"""Minors a kubelet may lag behind the API server (Kubernetes version-skew policy, n-3)."""

_VERSION = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+([0-9A-Za-z.-]+))?$")

Precedence = tuple[int, int, int, int, tuple[tuple[int, int, str], ...]]


@dataclass(frozen=True, slots=True, eq=False)
class Version:
    """A parsed Kubernetes version; compares by semver precedence (build metadata ignored)."""

    major: int
    minor: int
    patch: int
    prerelease: str = ""
    build: str = ""

    @property
    def precedence(self) -> Precedence:
        """The sort key: a release after its pre-releases, numeric pre-release parts before alphanumeric ones."""
        if not self.prerelease:
            return (self.major, self.minor, self.patch, 1, ())
        parts = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in self.prerelease.split("."))
        return (self.major, self.minor, self.patch, 0, parts)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Version) and self.precedence == other.precedence

    def __hash__(self) -> int:
        return hash(self.precedence)

    def __lt__(self, other: Version) -> bool:
        return self.precedence < other.precedence

    def __le__(self, other: Version) -> bool:
        return self.precedence <= other.precedence

    def __gt__(self, other: Version) -> bool:
        return self.precedence > other.precedence

    def __ge__(self, other: Version) -> bool:
        return self.precedence >= other.precedence

    def __str__(self) -> str:
        text = f"v{self.major}.{self.minor}.{self.patch}"
        text += f"-{self.prerelease}" if self.prerelease else ""
        return text + (f"+{self.build}" if self.build else "")


@functools.lru_cache(maxsize=1024)
def parse_version(text: str) -> Version | None:
    """``v1.34.2`` → ``Version(1, 34, 2)``; None when ``text`` is not a version (cached: versions repeat)."""
    match = _VERSION.match(text)
    if match is None:
        return None
    return Version(int(match[1]), int(match[2]), int(match[3]), match[4] or "", match[5] or "")


def require_version(text: str) -> Version:
    """:func:`parse_version` for text already validated as a version; ValueError otherwise."""
    parsed = parse_version(text)
    if parsed is None:
        raise ValueError(f"'{text}' is not a Kubernetes version")
    return parsed


_UNPARSABLE: Precedence = (-1, -1, -1, 0, ())


@functools.lru_cache(maxsize=1024)
def version_order(text: str) -> Precedence:
    """A sort key for version text (unparsable text sorts first)."""
    parsed = parse_version(text)
    return parsed.precedence if parsed is not None else _UNPARSABLE


def minor_of(text: str) -> int:
    """The minor of a version (0 when ``text`` is not one)."""
    parsed = parse_version(text)
    return parsed.minor if parsed is not None else 0


def is_downgrade(before: str, after: str) -> bool:
    """True when going from ``before`` to ``after`` lowers the version (CAPI refuses: no control-plane rollback).

    False when either is not a version: what cannot be compared is not called a downgrade here.
    """
    old, new = parse_version(before), parse_version(after)
    return old is not None and new is not None and new < old


def minor_skew(newer: str, older: str) -> int | None:
    """How many minors ``older`` lags ``newer`` (negative when it is ahead); None when either is not a version."""
    new, old = parse_version(newer), parse_version(older)
    if new is None or old is None:
        return None
    return new.minor - old.minor
