"""What diagnostics echo: secrets left out, ordinary identifiers kept, control characters escaped."""

from __future__ import annotations

import pytest

from fleetc.core.diagnostics import Diagnostic, SourceLocation
from fleetc.core.redact import REDACTED, looks_secret, printable, without_value

SECRETS = [
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "AKIAIOSFODNN7EXAMPLE",
    "ghp_R7tq2Lk9ZxW4mN8bV3cY6pH1sD5fG0jKa2Qe",
    "glpat-xR7tq2Lk9ZxW4mN8bV3c",
    "xoxb-1234567890-abcdefghij",
    "sk_live_51HabcDEF123456789",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "q8Xz+Tb9/Lm3Kp0Rw7Vn2Yc5Ua1Hd4Ge6Jf==",
]
IDENTIFIERS = [
    "Standard_NC24ads_A100_v4",
    "registry.k8s.io/kube-apiserver:v1.34.2",
    "ubuntu-2404-kube-{version}",
    "fleet/clusters/stores-0101.yaml",
    "AWSClusterRoleIdentity",
    "3f9a2c1b8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a",
    "standard-aws-eu-west-1-3f9a2c1b",
    "vcenter.dc1.example.com",
]


@pytest.mark.parametrize("secret", SECRETS)
def test_a_secret_is_never_echoed(secret: str) -> None:
    diagnostic = Diagnostic(SourceLocation("f.yaml", 1, 1), "spec.class", f"no ClusterClass '{secret}' nor {secret}")
    assert looks_secret(secret)
    assert secret not in str(diagnostic) and REDACTED in diagnostic.message


@pytest.mark.parametrize("identifier", IDENTIFIERS)
def test_ordinary_identifiers_are_kept(identifier: str) -> None:
    message = f"'{identifier}' is not mapped"
    assert not looks_secret(identifier)
    assert Diagnostic(SourceLocation("f.yaml"), "spec", message).message == message


def test_any_value_of_a_credentials_field_is_left_out() -> None:
    message = "'Hunter2!' is not a DNS-1123 label"
    assert without_value(message, "spec.credentialsRef.name", "Hunter2!") == f"'{REDACTED}' is not a DNS-1123 label"
    assert without_value(message, "spec.class", "Hunter2!") == message


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("a\nb", "a\\nb"),
        ("\x1b[31mred", "\\x1b[31mred"),
        ("bell\x07", "bell\\x07"),
        ("del\x7f", "del\\x7f"),
        ("bidi\u202e", "bidi\\u202e"),
        ("line\u2028sep", "line\\u2028sep"),
        ("byte\udcff", "byte\\xff"),
        ("plain é ünïcode", "plain é ünïcode"),
    ],
)
def test_control_characters_are_shown_as_escapes(raw: str, shown: str) -> None:
    assert printable(raw) == shown
    diagnostic = Diagnostic(SourceLocation(f"x{raw}.yaml", 1, 1), f"spec.{raw}", f"unknown field '{raw}'", context=raw)
    assert str(diagnostic) == f"x{shown}.yaml:1:1: spec.{shown}: unknown field '{shown}' [{shown}]"
