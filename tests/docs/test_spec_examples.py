"""docs/spec.md stays true: its YAML examples are valid fleet documents that together form a valid fleet, its
sample output is what ``fleetc validate`` prints for the changes it describes, and its field tables list exactly
the fields the spec models have.

Examples are the fenced ```yaml blocks starting with ``apiVersion: fleetc.io/v1alpha1``. Field tables are the
tables headed ``| Field``, one row per field path (``workers.<pool>.size``), in the section of each kind.
"""

from __future__ import annotations

import re
import subprocess
import sys
import types
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

import pytest
from pydantic import BaseModel

from fleetc import MemoryTree, validate_tree
from fleetc.load.origins import Origin
from fleetc.load.yamlio import parse_documents
from fleetc.schema.base import ObjectMeta
from fleetc.schema.cluster import ClusterSetSpec, ClusterSpec
from fleetc.schema.cluster_class import ClusterClassSpec
from fleetc.schema.documents import KINDS, parse_document
from fleetc.schema.fleet import FleetSpec
from fleetc.schema.provider import ProviderDocument

SPEC = Path(__file__).resolve().parents[2] / "docs" / "spec.md"
API_LINE = "apiVersion: fleetc.io/v1alpha1"
_FENCE = re.compile(r"^```yaml\n(.*?)^```$", re.MULTILINE | re.DOTALL)
_SECTION = re.compile(r"^## (\S+)", re.MULTILINE)
_FIELD_TABLE = re.compile(r"^\| Field.*\n(?:\|.*\n)+", re.MULTILINE)
_FIELD_ROW = re.compile(r"^\| `([^`]+)` \|", re.MULTILINE)


@dataclass(frozen=True)
class Example:
    """One fenced yaml block of the doc and the line its first YAML line is on."""

    line: int
    text: str

    @property
    def label(self) -> str:
        return f"docs/spec.md:{self.line}"

    @property
    def padded(self) -> str:
        """The block preceded by blank lines, so diagnostics give line numbers of the doc."""
        return "\n" * (self.line - 1) + self.text


def spec_text() -> str:
    return SPEC.read_text(encoding="utf-8")


def fleet_examples() -> list[Example]:
    text = spec_text()
    return [
        Example(text.count("\n", 0, match.start(1)) + 1, match.group(1))
        for match in _FENCE.finditer(text)
        if match.group(1).startswith(API_LINE)
    ]


EXAMPLES = fleet_examples()


def test_the_doc_shows_every_kind() -> None:
    kinds = set()
    for example in EXAMPLES:
        documents, _ = parse_documents("docs/spec.md", example.padded)
        kinds |= {d.data.get("kind") for d in documents if isinstance(d.data, dict)}
    assert kinds == set(KINDS)


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.label for e in EXAMPLES])
def test_example_is_a_valid_fleet_document(example: Example) -> None:
    documents, problems = parse_documents("docs/spec.md", example.padded)
    assert problems == []
    assert documents, "the block holds no document"
    for document in documents:
        expect = "Fleet" if isinstance(document.data, dict) and document.data.get("kind") == "Fleet" else None
        parsed = parse_document(Origin.of(document), document.data, expect=expect)
        assert [str(d) for d in parsed.diagnostics] == []
        assert parsed.model is not None


def test_examples_together_are_a_valid_fleet() -> None:
    """The Fleet example becomes fleet.yaml, every other block a file: no errors and no warnings at all."""
    fleets = [e for e in EXAMPLES if "\nkind: Fleet\n" in e.text]
    assert len(fleets) == 1, "the doc needs exactly one Fleet example"
    files = {f"spec.md-{e.line}.yaml": e.padded.encode() for e in EXAMPLES if e not in fleets}
    files["fleet.yaml"] = fleets[0].padded.encode()

    result = validate_tree(MemoryTree(files, label="docs"))

    assert [str(d) for d in result.diagnostics] == []
    assert result.fleet is not None
    claim = re.search(r"This expands to ((?:`[a-z0-9-]+`(?:, | and )?)+)\.", spec_text())
    assert claim, "the ClusterSet section says what its example expands to"
    generated = set(re.findall(r"`([a-z0-9-]+)`", claim.group(1)))
    written = {e.document.metadata.name for e in result.fleet.clusters.values() if not e.origin.context}
    assert set(result.fleet.clusters) - written == generated
    # A string that is exactly one placeholder keeps the value's type: replicas: "${env.replicas}" → 3.
    assert result.fleet.clusters["eu-staging-1"].document.spec.workers["general"].replicas == 3


# --- sample output ---------------------------------------------------------------------------------------------

FOLDERS = {"ClusterClass": "classes", "Provider": "providers", "Cluster": "clusters", "ClusterSet": "clusters"}
Edit = tuple[str, str, str]
"""(file under fleet/, text, replacement): the changes the doc describes before each sample output."""
DIAGNOSTICS_EDITS: list[Edit] = [
    ("clusters/eu-prod-1.yaml", "general: {replicas: 6}", "general: {replcas: 6}"),
    ("providers/aws-eu-west-1.yaml", "[eu-west-1a, eu-west-1b,", "[eu-west-1a, eu-west-1a,"),
]
CLUSTER_SET_EDITS: list[list[Edit]] = [
    [("clusters/app-environments.yaml", '{replicas: "${env.replicas}"}', '{replica: "${env.replicas}"}')],
    [("clusters/app-environments.yaml", "provider: aws-eu-west-1}", "provider: aws-eu-west-2}")],
]


def write_doc_fleet(root: Path, edits: list[Edit]) -> None:
    """The doc's examples one per file, as the Diagnostics section says, with ``edits`` applied."""
    for example in EXAMPLES:
        documents, _ = parse_documents("docs/spec.md", example.text)
        first = documents[0].data
        name = (
            "fleet.yaml" if first["kind"] == "Fleet" else f"{FOLDERS[first['kind']]}/{first['metadata']['name']}.yaml"
        )
        (root / "fleet" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "fleet" / name).write_text(example.text, encoding="utf-8")
    for name, old, new in edits:
        path = root / "fleet" / name
        text = path.read_text(encoding="utf-8")
        assert text.count(old) == 1, f"{old!r} is not once in {name}"
        path.write_text(text.replace(old, new), encoding="utf-8")


def fleetc_validate(root: Path, *args: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-m", "fleetc", "validate", "fleet", *args],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    return done.stdout.splitlines()


def doc_block(start: str) -> list[str]:
    """The lines of the fenced block (indented or not) whose first line starts with ``start``."""
    for match in re.finditer(r"^( *)```\w+\n(.*?)^\1```$", spec_text(), re.MULTILINE | re.DOTALL):
        lines = [line.removeprefix(match.group(1)) for line in match.group(2).splitlines()]
        if lines and lines[0].startswith(start):
            return lines
    raise AssertionError(f"no block starting with {start!r} in docs/spec.md")


def test_diagnostics_sample_is_what_fleetc_prints(tmp_path: Path) -> None:
    write_doc_fleet(tmp_path, DIAGNOSTICS_EDITS)
    block = doc_block("$ fleetc validate fleet")

    assert fleetc_validate(tmp_path) == block[1:]
    annotations = re.findall(r"`(::error [^`]+)`", spec_text())
    assert annotations, "the github format is shown"
    assert set(annotations) <= set(fleetc_validate(tmp_path, "--format", "github"))


def test_cluster_set_sample_is_what_fleetc_prints(tmp_path: Path) -> None:
    block = doc_block("fleet/clusters/app-environments.yaml:")
    groups = "\n".join(block).split("\n\n")
    assert len(groups) == len(CLUSTER_SET_EDITS)
    for index, (edits, group) in enumerate(zip(CLUSTER_SET_EDITS, groups, strict=True)):
        root = tmp_path / str(index)
        write_doc_fleet(root, edits)
        assert fleetc_validate(root)[:-1] == group.splitlines()


# --- field tables ---------------------------------------------------------------------------------------------


def _unwrap(annotation: Any) -> Any:
    while True:
        if get_origin(annotation) is Annotated:
            annotation = get_args(annotation)[0]
        elif get_origin(annotation) in (Union, types.UnionType) and type(None) in get_args(annotation):
            members = [a for a in get_args(annotation) if a is not type(None)]
            annotation = members[0] if len(members) == 1 else Union[tuple(members)]  # noqa: UP007
        else:
            return annotation


def _models_in(annotation: Any) -> list[tuple[str, type[BaseModel]]]:
    """The models a field holds, each with the path suffix to reach it: '' (object), '[]' (list), '.<>' (map)."""
    found = _unwrap(annotation)
    origin = get_origin(found)
    if isinstance(found, type) and issubclass(found, BaseModel):
        return [("", found)]
    if origin is list:
        return [(f"[]{suffix}", model) for suffix, model in _models_in(get_args(found)[0])]
    if origin is dict:
        return [(f".<>{suffix}", model) for suffix, model in _models_in(get_args(found)[1])]
    if origin in (Union, types.UnionType):
        return [pair for member in get_args(found) for pair in _models_in(member)]
    return []


def field_paths(annotation: Any) -> tuple[set[str], set[str]]:
    """Every field path under a type, and those the doc must list: the leaves, where a model used in several
    places (healthCheck) is spelled out at its shallowest place only."""
    every: set[str] = set()
    leaves: set[str] = set()
    spelled_out: set[type[BaseModel]] = set()
    queue = deque(("", model, True) for _, model in _models_in(annotation))
    while queue:
        prefix, model, listed = queue.popleft()
        for name, info in model.model_fields.items():
            path = prefix + (info.alias or name)
            every.add(path)
            children = _models_in(info.annotation)
            if listed and not children:
                leaves.add(path)
            for suffix, child in children:
                queue.append((f"{path}{suffix}.", child, listed and child not in spelled_out))
                spelled_out.add(child)
    return every, leaves


def _common_paths() -> tuple[set[str], set[str]]:
    every, leaves = field_paths(ObjectMeta)
    top = {"apiVersion", "kind", "metadata", "spec"}
    return top | {f"metadata.{p}" for p in every}, {"apiVersion", "kind", "spec"} | {f"metadata.{p}" for p in leaves}


SECTIONS: dict[str, tuple[set[str], set[str]]] = {
    "Common": _common_paths(),
    "Fleet": field_paths(FleetSpec),
    "ClusterClass": field_paths(ClusterClassSpec),
    "Provider": field_paths(ProviderDocument.model_fields["spec"].annotation),
    "Cluster": field_paths(ClusterSpec),
    "ClusterSet": field_paths(ClusterSetSpec),
}


def documented_fields() -> dict[str, set[str]]:
    """The backticked first cells of tables headed ``| Field``, by the first word of their ``##`` section;
    map keys (``<pool>``) as '<>'."""
    text = spec_text()
    starts = list(_SECTION.finditer(text))
    sections: dict[str, set[str]] = {}
    for index, heading in enumerate(starts):
        end = starts[index + 1].start() if index + 1 < len(starts) else len(text)
        rows = {
            re.sub(r"<[^>]+>", "<>", row)
            for table in _FIELD_TABLE.findall(text, heading.end(), end)
            for row in _FIELD_ROW.findall(table)
        }
        sections[heading.group(1)] = rows
    return sections


@pytest.mark.parametrize("section", SECTIONS)
def test_field_table_matches_the_models(section: str) -> None:
    every, leaves = SECTIONS[section]
    documented = documented_fields().get(section, set())
    assert sorted(documented - every) == [], "documented fields the models do not have"
    assert sorted(leaves - documented) == [], "model fields the doc does not list"


def test_no_field_table_outside_the_kinds() -> None:
    stray = {name: rows for name, rows in documented_fields().items() if rows and name not in SECTIONS}
    assert stray == {}
