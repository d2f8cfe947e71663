"""Making echoed text safe: escapes for what a terminal or a log would interpret, and secrets left out.

fleetc runs on pull requests from people the platform team does not control, and its findings land in CI
logs. Two rules hold for every path, field and message a diagnostic shows:

- :func:`printable`: control characters, line and paragraph separators, bidi and zero-width formatting
  characters and lone surrogates (bytes of a file name that are not UTF-8) are shown as escapes such as
  ``\\n`` or ``\\x1b``, so a key cannot forge a second ``file:line:col:`` line nor send terminal escapes.
- :func:`redact`: a value that looks like a secret (a known key prefix such as ``AKIA`` or ``ghp_``, or a
  long high-entropy string) is replaced by ``<redacted: …>``; :func:`without_value` does the same for whatever
  value was written in a credentials field (``credentialsRef.name``, ``password``…).

Callers: :class:`fleetc.core.diagnostics.Diagnostic` applies :func:`printable` and :func:`redact` when it is
built; :mod:`fleetc.schema.documents` applies :func:`without_value` to schema errors, which know the value.
"""

from __future__ import annotations

import math
import re
from collections import Counter

REDACTED = "<redacted: looks like a secret>"

_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff\ufff9-\ufffb\ud800-\udfff]"
)
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}

_QUOTED = re.compile(r"'([^'\n]{1,4096})'|\"([^\"\n]{1,4096})\"")
_TOKEN = re.compile(r"[A-Za-z0-9+/=_.\-]{16,}")
_KNOWN_PREFIX = re.compile(
    r"(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|AIPA)[A-Z0-9]{12,}"
    r"|(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}"
    r"|glpat-[A-Za-z0-9_\-]{16,}|xox[abposr]-[A-Za-z0-9\-]{10,}"
    r"|(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{10,}|sk-[A-Za-z0-9_\-]{20,}"
    r"|AIza[A-Za-z0-9_\-]{30,}|ya29\.[A-Za-z0-9_\-]{20,}|npm_[A-Za-z0-9]{30,}|pypi-[A-Za-z0-9_\-]{30,}"
    r"|hf_[A-Za-z0-9]{30,}|SG\.[A-Za-z0-9_\-]{16,}\.[A-Za-z0-9_\-]{16,}"
    r"|eyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}"
    r"|-----BEGIN[ A-Z]*PRIVATE KEY"
)
_CREDENTIAL_FIELD = re.compile(
    r"credential|secret|password|passwd|passphrase|token|private_?key|access_?key|api_?key", re.I
)
_MIN_ENTROPY_LENGTH = 20
_MIN_BITS_PER_CHARACTER = 4.0
_MIN_RUN = 12
_SEPARATORS = re.compile(r"[-_./:]")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named:
        return named
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with every character a terminal or log reader would interpret shown as an escape."""
    return _UNSAFE.sub(_escape, text) if _UNSAFE.search(text) else text


def _entropy(text: str) -> float:
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def looks_secret(value: str) -> bool:
    """True for a known key prefix, or a long unbroken run of mixed characters with high entropy."""
    if _KNOWN_PREFIX.search(value):
        return True
    if len(value) < _MIN_ENTROPY_LENGTH or any(c.isspace() for c in value):
        return False
    classes = sum(
        (
            any(c.islower() for c in value),
            any(c.isupper() for c in value),
            any(c.isdigit() for c in value),
            any(c in "+/=_" for c in value),
        )
    )
    longest_run = max(len(part) for part in _SEPARATORS.split(value))  # identifiers are words joined by - _ . / :
    return classes >= 3 and longest_run >= _MIN_RUN and _entropy(value) >= _MIN_BITS_PER_CHARACTER


def is_credentials_field(field: str) -> bool:
    """True when a field path names credentials (``spec.credentialsRef.name``, ``password``…)."""
    return bool(_CREDENTIAL_FIELD.search(field))


def redact(message: str) -> str:
    """``message`` with every value that looks like a secret replaced by :data:`REDACTED`."""
    if not message:
        return message

    def quoted(match: re.Match[str]) -> str:
        value = match.group(1) if match.group(1) is not None else match.group(2)
        if looks_secret(value):
            quote = match.group()[0]
            return f"{quote}{REDACTED}{quote}"
        return match.group()

    message = _QUOTED.sub(quoted, message)
    return _TOKEN.sub(lambda m: REDACTED if looks_secret(m.group()) else m.group(), message)


def without_value(message: str, field: str, value: object) -> str:
    """``message`` without the value written in ``field`` when it is a credentials field, whatever it looks like."""
    if not isinstance(value, str) or not value or not is_credentials_field(field):
        return message
    return message.replace(value, REDACTED)
