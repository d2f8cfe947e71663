"""The YAML emitter: whatever it writes, a YAML parser reads back as the same data, byte-stably."""

from __future__ import annotations

import random

import pytest
import yaml

from fleetc.load.yamlio import parse_documents
from fleetc.render.emit import dump, dump_all, scalar

TRICKY_STRINGS = [
    "",
    " a",
    "a ",
    "yes",
    "No",
    "on",
    "OFF",
    "y",
    "n",
    "~",
    "null",
    "true",
    "1",
    "-1",
    "+1",
    "1.0",
    "1e3",
    ".5",
    "1_000",
    "0x1F",
    "0o17",
    "0b101",
    "1:30",
    "2024-01-01",
    ".inf",
    "-.nan",
    "a: b",
    "a #b",
    "#x",
    "-x",
    "- x",
    "*a",
    "&a",
    "!x",
    "%x",
    "@x",
    "`x",
    "?x",
    "[x]",
    "{x}",
    "'q'",
    '"q"',
    "a\nb",
    "tab\there",
    "é",
    "=",
    "<<",
    "a,b",
    "http://x.y:80/z",
    "unix:///run/containerd.sock",
    "nodefs.available<0%",
    "10.0.0.0/8",
    "v1.34.2",
    "g5.2xlarge",
    "Standard_D2s_v5",
    "fleetc.io/source",
    "12345678901234567890",
    "00",
    "09",
    "1.",
    "-",
    ":",
    "a:",
    "10.20.1.10:",
    "a::",
    "a:\tb",
    "x\x7fy",
    "x\x85y",
    "x\u2028y",
    "\ufeffx",
]


@pytest.mark.parametrize("text", TRICKY_STRINGS, ids=repr)
def test_strings_read_back_as_the_same_string(text: str) -> None:
    assert yaml.safe_load(f"k: {scalar(text)}\n") == {"k": text}


@pytest.mark.parametrize("value", [None, True, False, 0, 7, -3, 2.5, 1e20, 1e-7, float("inf")], ids=repr)
def test_non_strings_keep_their_type(value: object) -> None:
    assert yaml.safe_load(f"k: {scalar(value)}\n") == {"k": value}


def test_nested_structures_round_trip() -> None:
    document = {
        "apiVersion": "v1",
        "list": [{"a": 1, "b": [1, [2, 3], {}]}, [], {}, "x", [{"deep": {"er": [None]}}]],
        "map": {text: text for text in TRICKY_STRINGS if text},
        "empty": {},
    }
    assert yaml.safe_load(dump(document)) == document


def test_keys_keep_the_order_given() -> None:
    assert dump({"b": 1, "a": 2}) == "b: 1\na: 2\n"


def test_many_documents_are_separated() -> None:
    assert list(yaml.safe_load_all(dump_all([{"a": 1}, {"b": 2}]))) == [{"a": 1}, {"b": 2}]


_PIECES = [
    *"aZ09_./-+=@():,#&*!|>'\"%`?[]{}~<",
    " ",
    "\t",
    "\n",
    "\r",
    "\x00",
    "\x1b",
    "\x7f",
    "\x85",
    "\xa0",
    "\u2028",
    "\u2029",
    "\ufeff",
    "é",
    "😀",
    ": ",
    " #",
    "---",
    "...",
    "yes",
    "null",
    "0x1",
    "1e3",
    "<<",
    "${a}",
]


def _generated_strings(count: int, seed: int) -> list[str]:
    """Strings built from the characters and fragments YAML gives a meaning to (a seeded, repeatable run)."""
    generator = random.Random(seed)
    return ["".join(generator.choices(_PIECES, k=generator.randint(0, 8))) for _ in range(count)]


@pytest.mark.parametrize("seed", range(4))
def test_generated_strings_read_back_as_keys_and_values(seed: int) -> None:
    strings = _generated_strings(2500, seed)
    document = {"values": strings, "keys": {text: index for index, text in enumerate(strings)}}
    text = dump(document)
    assert yaml.load(text, Loader=yaml.SafeLoader) == document
    assert yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) == document
    documents, problems = parse_documents("emitted.yaml", text)
    assert problems == [] and [d.data for d in documents] == [document]
