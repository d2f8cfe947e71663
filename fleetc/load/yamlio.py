"""YAML reading that keeps positions and refuses hostile input with a located diagnostic.

Parsing uses PyYAML's libyaml composer (``CSafeLoader``), which yields nodes with line and column at about
0.2 ms a document; ruamel.yaml's pure-Python round-trip loader costs ~8 ms (docs/design.md §9), too slow for
10,000-cluster fleets. Nodes are turned into plain Python data here, with the checks the constructors of
PyYAML lack: duplicate keys, nesting depth, alias expansion ("billion laughs"), and tags: a fleet document is
plain YAML, so custom and language tags (``!Ref``, ``!!python/name:…``, ``!!binary``) are refused rather than
silently read as strings, and an explicit standard tag with an impossible value (``!!int abc``) is a located
diagnostic, never a traceback.

Callers: :mod:`fleetc.load.loader` parses files; validation maps error paths back to lines with :func:`locate`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from fleetc.core.diagnostics import Diagnostic, FieldPath, SourceLocation, format_field_path

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MAX_DEPTH = 64
"""Deepest nesting a fleet document may have; real specs need about 8 levels."""
MAX_NODES = 200_000
"""Most nodes one document may expand to (aliases included); 10,000 clusters in one list is ~150,000."""

_STANDARD = "tag:yaml.org,2002:"
_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"
_NULL = "tag:yaml.org,2002:null"
_SCALAR_TAGS = frozenset(
    {"tag:yaml.org,2002:null", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"}
)
_NULL_VALUES = frozenset({"", "~", "null", "Null", "NULL"})
_TEXT_TAGS = frozenset({_STR, "tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:value", "!"})
"""Scalars read as their text: strings, and what YAML 1.1 would turn into dates (Kubernetes keeps text)."""
_COLLECTION_TAGS = frozenset({"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq", "!"})
_SHOWN_CHARACTERS = 40
_constructor = yaml.constructor.SafeConstructor()


@dataclass(frozen=True)
class YamlDocument:
    """One parsed YAML document: its node tree (for positions) and its plain data."""

    path: str
    index: int
    node: yaml.Node
    data: Any


@dataclass
class _Budget:
    path: str
    nodes: int = 0
    aliased: bool = False
    seen: set[int] = field(default_factory=set)
    problems: list[Diagnostic] = field(default_factory=list)


class _Refused(Exception):
    def __init__(self, node: yaml.Node, message: str) -> None:
        super().__init__(message)
        self.node = node
        self.message = message


def mark_location(path: str, mark: yaml.Mark | None) -> SourceLocation:
    """A 1-based location from a zero-based PyYAML mark."""
    if mark is None:
        return SourceLocation(path)
    return SourceLocation(path, mark.line + 1, mark.column + 1)


def decode(path: str, raw: bytes) -> tuple[str | None, list[Diagnostic]]:
    """Decode UTF-8 (a BOM is allowed); on failure, point at the first bad byte."""
    try:
        return raw.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        bad = raw[exc.start : exc.start + 1].hex()
        message = f"file is not valid UTF-8 (byte 0x{bad}); fleet files must be UTF-8 text"
        return None, [Diagnostic(SourceLocation(path, line, column), "", message)]


def parse_documents(path: str, text: str) -> tuple[list[YamlDocument], list[Diagnostic]]:
    """Every non-empty document of a YAML stream, plus diagnostics for what could not be read."""
    documents: list[YamlDocument] = []
    problems: list[Diagnostic] = []
    try:
        for index, node in enumerate(_compose_all(text)):
            if node is None or _is_empty(node):
                continue
            data, node_problems = to_data(path, node)
            problems.extend(node_problems)
            if not node_problems or data is not None:
                documents.append(YamlDocument(path, index, node, data))
    except yaml.MarkedYAMLError as exc:
        problems.append(Diagnostic(mark_location(path, exc.problem_mark), "", _syntax_message(exc)))
    except yaml.YAMLError as exc:
        problems.append(_reader_problem(path, text, exc))
    except RecursionError:
        problems.append(Diagnostic(SourceLocation(path), "", f"nesting deeper than {MAX_DEPTH} levels"))
    return documents, problems


def _is_empty(node: yaml.Node) -> bool:
    """An empty document such as a bare ``---``: libyaml gives a null scalar."""
    return isinstance(node, yaml.ScalarNode) and node.tag == _NULL and node.value in ("", "~", "null")


def _compose_all(text: str) -> Iterator[yaml.Node | None]:
    loader = _Loader(text)
    try:
        while loader.check_node():
            yield loader.get_node()
    finally:
        loader.dispose()


def _syntax_message(exc: yaml.MarkedYAMLError) -> str:
    parts = [p for p in (exc.context, exc.problem) if p]
    return "invalid YAML: " + ", ".join(parts) if parts else "invalid YAML"


def _reader_problem(path: str, text: str, exc: yaml.YAMLError) -> Diagnostic:
    position = getattr(exc, "position", None)
    if isinstance(position, int):
        line = text.count("\n", 0, position) + 1
        column = position - (text.rfind("\n", 0, position) + 1) + 1
        return Diagnostic(SourceLocation(path, line, column), "", f"invalid YAML: {exc}".splitlines()[0])
    return Diagnostic(SourceLocation(path), "", f"invalid YAML: {exc}".splitlines()[0])


def to_data(path: str, node: yaml.Node) -> tuple[Any, list[Diagnostic]]:
    """Plain data for a node tree; refuses duplicate keys, deep nesting and alias bombs."""
    budget = _Budget(path)
    try:
        data = _convert(node, 0, budget, ())
    except _Refused as refused:
        return None, [*budget.problems, _at(path, refused.node, refused.message)]
    return data, budget.problems


def _convert(node: yaml.Node, depth: int, budget: _Budget, path: FieldPath) -> Any:
    if depth > MAX_DEPTH:
        raise _Refused(node, f"nesting deeper than {MAX_DEPTH} levels (or a recursive alias)")
    budget.nodes += 1
    if budget.nodes > MAX_NODES:
        why = " through aliases (a 'billion laughs' alias bomb?)" if budget.aliased else ""
        raise _Refused(node, f"document expands to more than {MAX_NODES:,} nodes{why}; refused")
    if isinstance(node, yaml.ScalarNode):
        return _scalar(node)
    if node.tag not in _COLLECTION_TAGS:
        raise _Refused(node, _unknown_tag(node.tag))
    if id(node) in budget.seen:
        budget.aliased = True
    budget.seen.add(id(node))
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, depth + 1, budget, (*path, index)) for index, item in enumerate(node.value)]
    return _mapping(node, depth, budget, path)


def _scalar(node: yaml.ScalarNode) -> Any:
    if node.tag in _TEXT_TAGS:
        return node.value
    if node.tag not in _SCALAR_TAGS:
        raise _Refused(node, _unknown_tag(node.tag))
    if node.tag == _NULL and node.value not in _NULL_VALUES:
        raise _Refused(node, _impossible(node))
    try:
        return _constructor.yaml_constructors[node.tag](_constructor, node)
    except (ValueError, KeyError, TypeError, IndexError, yaml.constructor.ConstructorError):
        raise _Refused(node, _impossible(node)) from None


def _shown_tag(tag: str) -> str:
    return f"!!{tag.removeprefix(_STANDARD)}" if tag.startswith(_STANDARD) else tag


def _unknown_tag(tag: str) -> str:
    return (
        f"tag '{_shown_tag(tag)}' is not allowed: fleet documents are plain YAML (no custom, language or binary "
        "tags); remove the tag"
    )


def _impossible(node: yaml.ScalarNode) -> str:
    value = node.value
    if len(value) > _SHOWN_CHARACTERS:
        value = f"{value[:_SHOWN_CHARACTERS]}… ({len(node.value):,} characters)"
    kind = _shown_tag(node.tag)
    if node.tag == "tag:yaml.org,2002:int" and node.value.lstrip("+-").isdigit():
        return f"integer '{value}' has too many digits ({len(node.value):,}); refused"
    return f"'{value}' is not a valid {kind} value (tag {kind})"


def _mapping(node: yaml.Node, depth: int, budget: _Budget, path: FieldPath) -> dict[str, Any]:
    result: dict[str, Any] = {}
    first_seen: dict[str, yaml.Node] = {}
    merged: dict[str, Any] = {}
    for key_node, value_node in node.value:
        if key_node.tag == _MERGE:
            merged.update(_merge_sources(value_node, depth + 1, budget, path))
            continue
        if not isinstance(key_node, yaml.ScalarNode):
            raise _Refused(key_node, "mapping keys must be plain scalars")
        if key_node.tag not in _TEXT_TAGS and key_node.tag not in _SCALAR_TAGS:
            raise _Refused(key_node, _unknown_tag(key_node.tag))
        key = key_node.value
        if key in first_seen:
            first = first_seen[key].start_mark.line + 1
            message = f"duplicate key '{key}' (first defined on line {first})"
            budget.problems.append(_at(budget.path, key_node, message, (*path, key)))
            continue
        first_seen[key] = key_node
        result[key] = _convert(value_node, depth + 1, budget, (*path, key))
    return {**merged, **result} if merged else result


def _merge_sources(value_node: yaml.Node, depth: int, budget: _Budget, path: FieldPath) -> dict[str, Any]:
    """The mappings a ``<<`` key merges, converted through the same depth and size budget as any node."""
    sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
    merged: dict[str, Any] = {}
    for source in reversed(sources):
        if not isinstance(source, yaml.MappingNode):
            raise _Refused(source, "a merge key ('<<') takes a mapping or a list of mappings")
        merged.update(_convert(source, depth, budget, path))
    return merged


def _at(path: str, node: yaml.Node, message: str, field: FieldPath = ()) -> Diagnostic:
    return Diagnostic(mark_location(path, node.start_mark), format_field_path(field), message)


def locate(node: yaml.Node, path: Sequence[str | int], *, at_key: bool = False) -> tuple[yaml.Mark, FieldPath]:
    """The mark of the deepest node along ``path``, and the part of ``path`` that was found.

    Path elements that match nothing (pydantic adds union tags such as ``'aws'`` to its error paths) are
    skipped. With ``at_key``, a final mapping key points at the key rather than its value.
    """
    current, mark, found = node, node.start_mark, []
    for position, element in enumerate(path):
        step = _child(current, element)
        if step is None:
            continue
        key_node, current = step
        found.append(element)
        last = position == len(path) - 1
        mark = key_node.start_mark if (at_key and last and key_node is not None) else current.start_mark
    return mark, tuple(found)


def _child(node: yaml.Node, element: str | int) -> tuple[yaml.Node | None, yaml.Node] | None:
    if isinstance(node, yaml.SequenceNode) and isinstance(element, int):
        return (None, node.value[element]) if 0 <= element < len(node.value) else None
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in reversed(node.value):
            if key_node.tag == _MERGE:
                merged = _child_in_merge(value_node, element)
                if merged is not None:
                    return merged
            elif isinstance(key_node, yaml.ScalarNode) and key_node.value == str(element):
                return key_node, value_node
    return None


def _child_in_merge(value_node: yaml.Node, element: str | int) -> tuple[yaml.Node | None, yaml.Node] | None:
    sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
    for source in sources:
        found = _child(source, element)
        if found is not None:
            return found
    return None
