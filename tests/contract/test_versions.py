"""The one Kubernetes version parser: accepted forms, order, and the never-downgrade and skew rules."""

from __future__ import annotations

import pytest

from fleetc.contract.versions import (
    Version,
    is_downgrade,
    minor_of,
    minor_skew,
    parse_version,
    require_version,
    version_order,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("v1.34.2", Version(1, 34, 2)),
        ("1.34.2", Version(1, 34, 2)),
        ("v0.0.0", Version(0, 0, 0)),
        ("v1.35.0-rc.1", Version(1, 35, 0, "rc.1")),
        ("v1.35.0-alpha.0.123+abcdef", Version(1, 35, 0, "alpha.0.123", "abcdef")),
        ("v1.35.0+build.5", Version(1, 35, 0, "", "build.5")),
    ],
    ids=["v-prefix", "no-prefix", "zeros", "pre-release", "pre-release-and-build", "build"],
)
def test_parses_semver_forms(text: str, expected: Version) -> None:
    parsed = parse_version(text)
    assert parsed is not None
    assert (parsed.major, parsed.minor, parsed.patch, parsed.prerelease, parsed.build) == (
        expected.major,
        expected.minor,
        expected.patch,
        expected.prerelease,
        expected.build,
    )
    assert str(parsed) == (text if text.startswith("v") else f"v{text}")


@pytest.mark.parametrize(
    "text", ["", "v1.34", "v1", "1.34.x", "v1.34.2.1", "vv1.34.2", " v1.34.2", "v1.34.2-", "v1.34.2+", "latest"]
)
def test_rejects_what_is_not_a_version(text: str) -> None:
    assert parse_version(text) is None
    with pytest.raises(ValueError, match="not a Kubernetes version"):
        require_version(text)


def test_orders_by_semver_precedence() -> None:
    texts = ["v1.35.0", "v1.34.10", "v1.35.0-rc.1", "v1.34.2", "v1.35.0-alpha.2", "v1.35.0-alpha.10", "v1.35.0-rc"]
    assert sorted(texts, key=version_order) == [
        "v1.34.2",
        "v1.34.10",
        "v1.35.0-alpha.2",
        "v1.35.0-alpha.10",
        "v1.35.0-rc",
        "v1.35.0-rc.1",
        "v1.35.0",
    ]


def test_build_metadata_does_not_count_in_order_or_equality() -> None:
    assert require_version("v1.35.0+a") == require_version("v1.35.0+b")
    assert hash(require_version("v1.35.0+a")) == hash(require_version("v1.35.0"))
    assert not require_version("v1.35.0+a") < require_version("v1.35.0")


def test_unparsable_text_sorts_first() -> None:
    assert sorted(["v0.0.1", "nonsense", "v1.0.0"], key=version_order) == ["nonsense", "v0.0.1", "v1.0.0"]


@pytest.mark.parametrize(
    ("before", "after", "down"),
    [
        ("v1.35.0", "v1.34.9", True),
        ("v1.35.0", "v1.35.0-rc.1", True),
        ("v1.34.2", "v1.34.2", False),
        ("v1.34.2", "v1.35.0", False),
        ("v1.34.2", "1.34.1", True),
        ("v1.34.2", "latest", False),
    ],
)
def test_never_downgrade(before: str, after: str, down: bool) -> None:
    assert is_downgrade(before, after) is down


def test_minor_skew_and_minor() -> None:
    assert minor_skew("v1.35.0", "v1.31.4") == 4
    assert minor_skew("v1.31.4", "v1.35.0") == -4
    assert minor_skew("v1.35.0", "x") is None
    assert minor_of("v1.35.7") == 35
    assert minor_of("x") == 0
