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

from tutor.curriculum.messages import Msg, msg

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
    """The message in English."""
    severity: str = "error"
    code: str = ""
    """Stable problem code (``unknown-ref``, ``yaml-tab``): see tutor/curriculum/messages.py."""
    message_zh: str = ""
    """The message in Traditional Chinese (Taiwan); empty means as in English."""

    def __post_init__(self) -> None:
        # a Msg carries its code and translation: Problem(file, line, col, msg("..."))
        if isinstance(self.message, Msg):
            if not self.code:
                object.__setattr__(self, "code", self.message.code)
            if not self.message_zh:
                object.__setattr__(self, "message_zh", self.message.zh)
            object.__setattr__(self, "message", str(self.message))

    def text(self, lang: str = "en") -> str:
        """The message in ``lang``."""
        return self.message_zh if lang == "zh-TW" and self.message_zh else self.message

    def format(self, lang: str = "en") -> str:
        # "error"/"warning" stay English in every language: editors' problem matchers and CI
        # scripts match `file:line:col: error:` (DESIGN.md's contract); the message is localised
        return f"{self.file}:{self.line}:{self.col}: {self.severity}: {self.text(lang)}"

    def as_json(self, lang: str = "en") -> dict[str, Any]:
        """One problem for ``tutor validate --format json``."""
        return {"file": self.file, "line": self.line, "column": self.col, "code": self.code,
                "severity": self.severity, "message": self.text(lang)}


@dataclass
class SourceDoc:
    """A loaded YAML file: its data and the position of every node."""

    file: str
    data: Any
    value_pos: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    """path -> (line, col) of the value at that path (1-based)."""
    key_pos: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    """path -> (line, col) of the mapping key naming that path (1-based)."""
    flow_maps: set[Path_] = field(default_factory=set)
    """Paths of mappings written in flow style (``{en: ..., zh-TW: ...}``), for quoting hints."""

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
            if node.flow_style:
                self.doc.flow_maps.add(path)
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    km = key_node.start_mark
                    self.problems.append(Problem(self.doc.file, km.line + 1, km.column + 1,
                                                 msg("merge-key")))
                    continue
                if not isinstance(key_node, yaml.ScalarNode):
                    km = key_node.start_mark
                    self.problems.append(Problem(self.doc.file, km.line + 1, km.column + 1,
                                                 msg("complex-key")))
                    continue
                key = self.scalar.construct_object(key_node)
                km = key_node.start_mark
                if isinstance(key, (int, float, bool)) or key is None:
                    key = key_node.value  # `1:` or `yes:` as a key means the text
                if key in out:
                    first = self.doc.key_pos[path + (key,)]
                    self.problems.append(Problem(
                        self.doc.file, km.line + 1, km.column + 1,
                        msg("duplicate-key", key=key, line=first[0])))
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
        return None, [Problem(name, 1, 1, msg("file-not-found"))]
    except UnicodeDecodeError as exc:
        return None, [Problem(name, 1, 1, msg("not-utf8", reason=exc.reason, byte=exc.start))]
    except OSError as exc:
        return None, [Problem(name, 1, 1, msg("unreadable", reason=exc.strerror))]
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        return None, [_syntax_problem(name, text, exc)]
    except yaml.YAMLError as exc:
        return None, [Problem(name, 1, 1, msg("yaml-syntax", detail=exc))]
    doc = SourceDoc(name, None)
    if node is None:
        return None, [Problem(name, 1, 1, msg("empty-file"))]
    try:
        doc.data = _Builder(doc, problems).build(node, ())
    except _TooBig:
        return None, [Problem(name, 1, 1, msg("too-large", limit=MAX_NODES))]
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        return None, [Problem(name, line, col, msg("yaml-error", detail=exc.problem))]
    return doc, problems


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _syntax_problem(name: str, text: str, exc: yaml.MarkedYAMLError) -> Problem:
    """A YAML syntax error named by its cause: tabs, indentation, an unquoted ': ' or ','.

    libyaml's own wording ("did not find expected '-' indicator") names the parser's state, not
    what the author did; the common causes are recognised here and the rest passes through.
    """
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    problem = exc.problem or exc.context or "invalid YAML"
    lines = text.splitlines()
    here = lines[line - 1] if 0 < line <= len(lines) else ""
    if "tab" in problem or (problem.startswith("found character that cannot start any token")
                            and here[col - 1:col] == "\t"):
        tab = here.find("\t")
        return Problem(name, line, tab + 1 if tab >= 0 else col, msg("yaml-tab"))
    ctx = exc.context_mark
    if problem in ("did not find expected '-' indicator", "did not find expected key") and ctx:
        kind = "list" if "-" in problem else "mapping"
        block = lines[ctx.line] if ctx.line < len(lines) else ""
        expected = ctx.column if kind == "list" else _indent(block)
        if kind == "list" and _indent(here) == expected:
            above = next((_indent(t) for t in reversed(lines[:line - 1]) if t.strip()), 0)
            return Problem(name, line, col, msg("yaml-indent-item", found=expected,
                                                line=ctx.line + 1, above=above))
        return Problem(name, line, col, msg("yaml-indent", found=_indent(here), kind=kind,
                                            line=ctx.line + 1, expected=expected))
    if problem == "mapping values are not allowed in this context":
        return Problem(name, line, col, msg("yaml-colon"))
    if problem.startswith("did not find expected ',' or") and ctx:
        close = problem.rstrip("'")[-1]
        return Problem(name, line, col, msg("yaml-flow", open="'{'" if close == "}" else "'['",
                                            close=close, line=ctx.line + 1))
    return Problem(name, line, col, msg("yaml-syntax", detail=problem))
