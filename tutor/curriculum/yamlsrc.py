"""YAML loading that remembers where every value came from.

PyYAML's ``compose`` (libyaml's C parser when available) gives a node tree with marks; we build
plain Python data from it ourselves so that (a) every mapping key and value keeps its line and
column, for ``file:line:col`` errors, (b) duplicate keys are errors instead of silently
overwriting, and (c) alias expansion is bounded (a "billion laughs" file cannot exhaust memory).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

try:  # libyaml: ~5x faster composing; pure Python otherwise
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - wheels ship libyaml
    _Loader = yaml.SafeLoader

MAX_NODES = 2_000_000
"""Upper bound on constructed nodes per file, aliases expanded."""

Path_ = tuple[Any, ...]
_STR = "tag:yaml.org,2002:str"


@dataclass(frozen=True)
class Problem:
    """One validation problem, printed as ``file:line:col: error: message``."""

    file: str
    line: int
    col: int
    message: str
    severity: str = "error"

    def format(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: {self.severity}: {self.message}"


@dataclass
class SourceDoc:
    """A loaded YAML file: its data and the position of every node."""

    file: str
    data: Any
    value_pos: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    """path -> (line, col) of the value at that path (1-based)."""
    key_pos: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    """path -> (line, col) of the mapping key naming that path (1-based)."""

    def pos(self, path: Path_, prefer_key: bool = False) -> tuple[int, int]:
        """Position of ``path``, or of its nearest existing ancestor."""
        p = tuple(path)
        while True:
            if prefer_key and p in self.key_pos:
                return self.key_pos[p]
            if p in self.value_pos:
                return self.value_pos[p]
            if not p:
                return (1, 1)
            p = p[:-1]

    def problem(self, path: Path_, message: str, prefer_key: bool = False) -> Problem:
        line, col = self.pos(path, prefer_key)
        return Problem(self.file, line, col, message)


class _Builder:
    def __init__(self, doc: SourceDoc, problems: list[Problem]) -> None:
        self.doc = doc
        self.problems = problems
        self.count = 0
        self.scalar = yaml.constructor.SafeConstructor()

    def build(self, node: yaml.Node, path: Path_) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise _TooBig
        m = node.start_mark
        self.doc.value_pos[path] = (m.line + 1, m.column + 1)
        if isinstance(node, yaml.MappingNode):
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    km = key_node.start_mark
                    self.problems.append(Problem(self.doc.file, km.line + 1, km.column + 1,
                                                 "merge keys ('<<') are not supported"))
                    continue
                if not isinstance(key_node, yaml.ScalarNode):
                    km = key_node.start_mark
                    self.problems.append(Problem(self.doc.file, km.line + 1, km.column + 1,
                                                 "mapping keys must be plain scalars"))
                    continue
                key = self.scalar.construct_object(key_node)
                km = key_node.start_mark
                if isinstance(key, (int, float, bool)) or key is None:
                    key = key_node.value  # `1:` or `yes:` as a key means the text
                if key in out:
                    first = self.doc.key_pos[path + (key,)]
                    self.problems.append(Problem(
                        self.doc.file, km.line + 1, km.column + 1,
                        f"duplicate key '{key}' (first defined at line {first[0]})"))
                    continue
                self.doc.key_pos[path + (key,)] = (km.line + 1, km.column + 1)
                out[key] = self.build(value_node, path + (key,))
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(child, path + (i,)) for i, child in enumerate(node.value)]
        if node.tag == _STR:  # fast path: most scalars are strings (halves load time)
            return node.value
        return self.scalar.construct_object(node)


class _TooBig(Exception):
    pass


def load_yaml(path: Path, display: str | None = None) -> tuple[SourceDoc | None, list[Problem]]:
    """Parse one YAML file. Returns (doc, problems); doc is None when the file cannot be used."""
    name = display or str(path)
    problems: list[Problem] = []
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, [Problem(name, 1, 1, "file not found")]
    except UnicodeDecodeError as exc:
        return None, [Problem(name, 1, 1, f"not valid UTF-8 ({exc.reason} at byte {exc.start})")]
    except OSError as exc:
        return None, [Problem(name, 1, 1, f"cannot read file: {exc.strerror}")]
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = exc.problem or exc.context or "invalid YAML"
        return None, [Problem(name, line, col, f"YAML syntax error: {what}")]
    except yaml.YAMLError as exc:
        return None, [Problem(name, 1, 1, f"YAML syntax error: {exc}")]
    doc = SourceDoc(name, None)
    if node is None:
        return None, [Problem(name, 1, 1, "file is empty")]
    try:
        doc.data = _Builder(doc, problems).build(node, ())
    except _TooBig:
        return None, [Problem(name, 1, 1, f"document too large (more than {MAX_NODES} nodes "
                                          "after expanding aliases)")]
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        return None, [Problem(name, line, col, f"YAML error: {exc.problem}")]
    return doc, problems
