"""Grading one answer to one question, in this process (the pool runs this in a worker).

``grade_local`` reads the answer safely, runs the question kind's correct-answer test, then the
response tree nodes in order, then applies the cost of the hints used. ``preview`` only reads.
Variants: parameters are drawn from ``random.Random(f"{question.id}:{seed}")``.
"""

from __future__ import annotations

import random
import re
import time
import unicodedata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from graders.answers import syntax as sx
from graders.answers.messages import msg
from graders.answers.schema import Node, Option, Question
from graders.answers.verdict import Preview, Verdict

if TYPE_CHECKING:
    from graders.answers.algebra import Value

EXPRESSION_KINDS = ("expression", "numeric", "equation", "set", "inequality", "asymptotic")
OPTION_KINDS = ("choice", "multi", "ordering")


class QuestionError(ValueError):
    """The question itself is broken (its expected answer cannot be read): an authoring bug."""


# ---------------------------------------------------------------------------------- variants


def variant(question: Question, seed: int | None) -> dict[str, int]:
    """The parameter values of variant ``seed``.

    ``seed`` None is the base variant: each parameter's first value (or ``min``), the values the
    question's cases are written for. Any other seed draws from
    ``random.Random(f"{question.id}:{seed}")`` in declaration order.
    """
    values: dict[str, int] = {}
    if seed is None:
        for name, p in question.params.items():
            values[name] = p.values[0] if p.values is not None else int(p.min or 0)
        return values
    rng = random.Random(f"{question.id}:{seed}")
    for name, p in question.params.items():
        if p.values is not None:
            values[name] = rng.choice(p.values)
        else:
            assert p.min is not None and p.max is not None
            values[name] = rng.randrange(p.min, p.max + 1, p.step)
    return values


def render_prompt(question: Question, seed: int | None = None, lang: str = "en") -> str:
    """The prompt in ``lang`` with ``{param}`` fields filled (other braces are left alone)."""
    values = variant(question, seed)
    text = question.prompt.get(lang)
    return re.sub(
        r"\{(\w+)\}", lambda m: str(values[m.group(1)]) if m.group(1) in values else m.group(0),
        text,
    )


def known_names(question: Question) -> set[str]:
    """Names an answer to ``question`` may use: declared symbols and parameters."""
    return set(question.symbols) | set(question.params)


# ---------------------------------------------------------------------------------- options


def _norm_text(s: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", s).casefold()).strip()


def _option_tokens(answer: str) -> list[str]:
    text = unicodedata.normalize("NFKC", answer).casefold()
    parts = re.split(r"[\s,;、/>|和及與]+|->|→|\band\b", text)
    return [p.strip("()[]{}.:'\"`") for p in parts if p.strip("()[]{}.:'\"`")]


def _read_options(question: Question, answer: str) -> list[str]:
    """Option ids in the order given; raises ParseError for unknown ids."""
    ids = [o.id for o in question.options]
    lookup = {i.casefold(): i for i in ids}
    tokens = _option_tokens(answer)
    if not tokens:
        raise sx.ParseError("err.empty")
    out: list[str] = []
    for tok in tokens:
        if tok in lookup:
            out.append(lookup[tok])
        elif question.kind != "choice" and all(c in lookup for c in tok):
            out.extend(lookup[c] for c in tok)  # "ac" for options a and c
        else:
            raise sx.ParseError("err.unknown_option", opt=tok, ids=", ".join(ids))
    return out


def _expected_options(question: Question) -> list[str]:
    ans = question.answer
    if isinstance(ans, list):
        return [str(a) for a in ans]
    if isinstance(ans, str) and ans.strip():
        return [t for t in re.split(r"[\s,]+", ans.strip()) if t]
    if question.kind == "ordering":
        return [o.id for o in question.options]
    return [o.id for o in question.options if o.correct]


# ---------------------------------------------------------------------------------- outcome


@dataclass
class _Outcome:
    status: str
    score: float
    note: str
    feedback: str
    pitfall: str | None = None
    interpreted_as: str = ""
    warnings: list[str] = field(default_factory=list)


def _from_node(node: Node, lang: str) -> tuple[str, float, str, str, str | None]:
    status = "correct" if node.score >= 1 else "partial" if node.score > 0 else "incorrect"
    return status, node.score, node.note, node.feedback.get(lang), node.pitfall


class _Context:
    """Everything one grading needs: the question, variant values, symbols."""

    def __init__(self, question: Question, seed: int | None, lang: str) -> None:
        from graders.answers import algebra

        self.q = question
        self.seed = seed
        self.lang = lang
        self.values = variant(question, seed)
        self.known = known_names(question)
        self.symbols = algebra.make_symbols({k: list(v) for k, v in question.symbols.items()})

    def env(self) -> dict[str, Any]:
        import sympy as sp

        env: dict[str, Any] = dict(self.symbols)
        env.update({k: sp.Integer(v) for k, v in self.values.items()})
        return env

    def author(self, text: str) -> Value:
        """Build an author-written expression (expected answer, tree node)."""
        from graders.answers import algebra

        try:
            reading = sx.read(text, self.known)
            return algebra.build(reading.tree, self.env())
        except sx.ParseError as exc:
            raise QuestionError(f"{self.q.id}: cannot read {text!r}: {exc.render()}") from None


def _learner_value(ctx: _Context, reading: sx.Reading) -> tuple[Value, list[str]]:
    from graders.answers import algebra

    tree = reading.tree
    extra: list[str] = []
    kind = ctx.q.kind
    if kind in ("expression", "numeric", "asymptotic") and isinstance(tree, sx.Rel) \
            and tree.ops == ("=",) and isinstance(tree.parts[0], sx.Name):
        extra.append(msg("warn.lhs_dropped", ctx.lang, name=sx.render(tree.parts[0])))
        tree = tree.parts[1]
    return algebra.build(tree, ctx.env()), extra


def _shape_error(ctx: _Context, v: Value) -> str | None:
    """Why a learner value does not fit the question kind, or None."""
    kind = ctx.q.kind
    if kind in ("expression", "numeric") and v.kind != "expr":
        return msg("err.expected_expression", ctx.lang)
    if kind == "numeric" and v.expr.free_symbols:
        names = ", ".join(sorted(sx.pretty_name(s.name) for s in v.expr.free_symbols))
        return msg("err.expected_number", ctx.lang, names=names)
    if kind == "equation" and (v.kind != "rel" or any(o != "=" for o in v.ops)):
        return msg("err.expected_equation", ctx.lang)
    if kind == "inequality" and (v.kind != "rel" or any(o in ("=", "!=") for o in v.ops)):
        return msg("err.expected_inequality", ctx.lang)
    if kind == "asymptotic" and v.kind not in ("asym", "expr"):
        return msg("err.expected_expression", ctx.lang)
    return None


def _compare(ctx: _Context, got: Value, want: Value, how: str = "equiv") -> str:
    """equal | different | undetermined, by the question kind's comparison."""
    from graders.answers import algebra

    kind = ctx.q.kind
    seed = ctx.q.id
    constants = (got.kind == want.kind == "expr" and not got.expr.free_symbols
                 and not want.expr.free_symbols)
    if how == "numeric" or kind == "numeric" or (ctx.q.tolerance is not None and constants):
        g = algebra.numeric_value(got.expr) if got.kind == "expr" else None
        w = algebra.numeric_value(want.expr) if want.kind == "expr" else None
        if g is None or w is None:
            if got.kind == "expr" and want.kind == "expr":
                return algebra.equivalent(got.expr, want.expr, seed=seed)
            return "different"
        tol = ctx.q.tolerance
        ok = algebra.numbers_close(
            g, w, abs_tol=tol.abs if tol else None, rel_tol=tol.rel if tol else None,
            sigfigs=tol.sigfigs if tol else None,
        )
        return "equal" if ok else "different"
    if kind == "asymptotic":
        if got.kind not in ("asym", "expr") or want.kind not in ("asym", "expr"):
            return "different"
        return "equal" if algebra.same_growth(got.expr, want.expr, seed=seed) else "different"
    if got.kind == "seq" or want.kind == "seq":
        matched, total, ordered = _match_seq(ctx, got, want)
        return "equal" if matched == total and ordered else "different"
    if got.kind != want.kind:
        return "different"
    if got.kind == "expr":
        return algebra.equivalent(got.expr, want.expr, seed=seed)
    if got.kind == "rel":
        if all(o == "=" for o in want.ops):
            same = algebra.equations_equivalent(got, want, seed=seed)
        else:
            same = algebra.inequalities_equivalent(got, want, seed=seed)
        return "equal" if same else "different"
    return "different"


def _items(v: Value) -> list[Value]:
    from graders.answers.algebra import Value as V

    if v.kind == "seq":
        return list(v.parts)
    return [V("expr", expr=v.expr)] if v.kind == "expr" else [v]


def _match_seq(ctx: _Context, got: Value, want: Value) -> tuple[int, int, bool]:
    """(matched elements, max(len), whether the order is right when it matters)."""
    g, w = _items(got), _items(want)
    ordered = want.seq_kind == "list"
    unused = list(range(len(g)))
    matched = 0
    positions: list[int] = []
    for wi in w:
        for j in unused:
            if _compare(ctx, g[j], wi) == "equal":
                unused.remove(j)
                matched += 1
                positions.append(j)
                break
    in_order = not ordered or positions == sorted(positions)
    return matched, max(len(g), len(w)), in_order


# ---------------------------------------------------------------------------------- kinds


_THOUSANDS = re.compile(r"\s*[≈~]?\s*\d{1,3}(,\d{3})+(\.\d+)?\s*")


def _numeric_commas(q: Question, answer: str) -> str:
    """"16,777,216" in a numeric question is one number, not a list."""
    if q.kind == "numeric" and _THOUSANDS.fullmatch(answer):
        return answer.replace(",", "")
    return answer


def _grade_expression(ctx: _Context, answer: str) -> _Outcome:
    from graders.answers import algebra

    q, lang = ctx.q, ctx.lang
    if q.answer is None or isinstance(q.answer, list) and not q.answer:
        raise QuestionError(f"{q.id}: {msg('err.no_answer')}")
    expected_text = q.answer if isinstance(q.answer, str) else ", ".join(q.answer)
    answer = _numeric_commas(q, answer)
    try:
        reading = sx.read(answer, ctx.known)
    except sx.ParseError as exc:
        return _Outcome("invalid", 0.0, "invalid", exc.render(lang))
    shown = sx.render(reading.tree)
    warnings = [msg(k, lang, **f) for k, f in reading.warnings]
    try:
        got, extra = _learner_value(ctx, reading)
    except sx.ParseError as exc:
        return _Outcome("invalid", 0.0, "invalid", exc.render(lang), interpreted_as=shown)
    warnings += extra
    problem = _shape_error(ctx, got)
    if problem:
        return _Outcome("invalid", 0.0, "invalid", problem, interpreted_as=shown,
                        warnings=warnings)
    want = ctx.author(expected_text)
    if q.kind == "set" and want.kind != "seq":
        want = algebra.Value("seq", parts=(want,), seq_kind="set")
    outcome = _compare(ctx, got, want)
    form_ok = True
    if outcome == "equal" and q.form and got.kind == "expr":
        form_ok = algebra.is_form(got.expr, q.form)
    if outcome == "equal" and form_ok:
        return _Outcome("correct", 1.0, "correct", msg("fb.correct", lang), interpreted_as=shown,
                        warnings=warnings)
    for node in q.tree:
        if _node_matches(ctx, node, answer, got):
            status, score, note, fb, pit = _from_node(node, lang)
            return _Outcome(status, score, note, fb, pit, shown, warnings)
    if outcome == "equal":  # right value, wrong form
        form = msg(f"form.{q.form}", lang)
        return _Outcome("partial", 0.5, "wrong-form", msg("fb.wrong_form", lang, form=form),
                        interpreted_as=shown, warnings=warnings)
    if q.kind == "set":
        matched, total, ordered = _match_seq(ctx, got, want)
        if matched == total and not ordered:
            return _Outcome("partial", 0.5, "wrong-order", msg("fb.set_order", lang),
                            interpreted_as=shown, warnings=warnings)
        if 0 < matched:
            return _Outcome("partial", matched / total, "partial-set",
                            msg("fb.set_partial", lang, matched=matched, total=total),
                            interpreted_as=shown, warnings=warnings)
    if outcome == "undetermined":
        return _Outcome("undetermined", 0.0, "undetermined", msg("fb.undetermined", lang),
                        interpreted_as=shown, warnings=warnings)
    key = {"numeric": "fb.incorrect_number", "asymptotic": "fb.not_growth"}.get(
        q.kind, "fb.incorrect")
    return _Outcome("incorrect", 0.0, "incorrect", msg(key, lang), interpreted_as=shown,
                    warnings=warnings)


def _grade_with_unit(ctx: _Context, answer: str) -> _Outcome:
    """A numeric question with a ``unit``: "2.8 TB" is graded as ``(2.8) * 1000`` in GB (the
    factor from pint, the unit from the whitelist in ``units``); a bare number as it is."""
    from graders.answers import algebra, units

    q, lang = ctx.q, ctx.lang
    assert q.unit is not None
    num, unit = units.split_unit(answer.strip(), ctx.known)
    if unit is None:
        return _grade_expression(ctx, answer)
    f = units.factor(unit, q.unit)
    if f is None:
        return _Outcome("invalid", 0.0, "invalid", msg("err.unit_kind", lang, unit=unit,
                                                       want=q.unit))
    num = _numeric_commas(q, num)
    out = _grade_expression(ctx, f"({num})*{f!r}")
    if out.status == "invalid":
        return _grade_expression(ctx, num)  # the number itself is unreadable: say why
    try:
        number = algebra.numeric_value(
            algebra.build_expr(sx.read(num, ctx.known).tree, ctx.env()))
    except sx.ParseError:
        number = None
    value = f"{number * f:.6g}" if number is not None else "?"
    out.interpreted_as = (f"{sx.visible(num)} {unit}" if f == 1.0
                          else f"{sx.visible(num)} {unit} = {value} {q.unit}")
    if out.status in ("incorrect", "partial"):
        # right number, wrong unit ("2.8 GB" for 2.8 TB): the learner said which unit, so it is
        # wrong (a tree node for the bare number, written for "2.8" typed without a unit, does
        # not apply), with feedback that names the unit
        for other in units.family(q.unit):
            g = units.factor(other, q.unit)
            if other == unit or g is None:
                continue
            if _grade_expression(ctx, f"({num})*{g!r}").status == "correct":
                out.feedback = msg("fb.unit_mismatch", lang, number=sx.visible(num), unit=unit,
                                   right=other, value=value, want=q.unit)
                out.status, out.score, out.note, out.pitfall = "incorrect", 0.0, "wrong-unit", None
                break
    return out


def _node_matches(ctx: _Context, node: Node, answer: str, got: Value | None) -> bool:
    from graders.answers import algebra

    if node.test == "contains":
        text = _norm_text(answer)
        return any(_norm_text(p) in text for p in node.any + ([node.answer] if node.answer else []))
    if node.test == "option":
        if node.answer is None:
            return False
        try:
            chosen = _read_options(ctx.q, answer)
        except sx.ParseError:
            return False
        want = [t for t in re.split(r"[\s,]+", node.answer.strip()) if t]
        if ctx.q.kind == "ordering":
            return chosen == want
        return set(chosen) == set(want)
    if got is None or node.answer is None:
        return False
    target = ctx.author(node.answer)
    if ctx.q.kind == "set" and target.kind != "seq":
        target = algebra.Value("seq", parts=(target,), seq_kind="set")
    if node.test == "numeric":
        return _compare(ctx, got, target, "numeric") == "equal"
    same = _compare(ctx, got, target) == "equal"
    if node.test == "same_form":
        return same and ctx.q.form is not None and got.kind == "expr" and algebra.is_form(
            got.expr, ctx.q.form)
    return same


def _grade_choice(ctx: _Context, answer: str) -> _Outcome:
    q, lang = ctx.q, ctx.lang
    try:
        chosen = _read_options(q, answer)
    except sx.ParseError as exc:
        return _Outcome("invalid", 0.0, "invalid", exc.render(lang))
    ids = ", ".join(o.id for o in q.options)
    for c in chosen:
        if chosen.count(c) > 1:
            return _Outcome("invalid", 0.0, "invalid", msg("err.duplicate_option", lang, opt=c))
    shown = ", ".join(chosen)
    want = _expected_options(q)
    by_id: dict[str, Option] = {o.id: o for o in q.options}
    if q.kind == "choice":
        if len(chosen) != 1:
            return _Outcome("invalid", 0.0, "invalid", msg("err.one_option", lang, ids=ids),
                            interpreted_as=shown)
        opt = by_id[chosen[0]]
        if chosen[0] in want:
            fb = msg("fb.correct", lang) + (" " + opt.feedback.get(lang) if opt.feedback else "")
            return _Outcome("correct", 1.0, "correct", fb, interpreted_as=shown)
        for node in q.tree:
            if _node_matches(ctx, node, answer, None):
                status, score, note, fb, pit = _from_node(node, lang)
                return _Outcome(status, score, note, fb, pit or opt.pitfall, shown)
        fb = opt.feedback.get(lang) if opt.feedback else msg("fb.choice_wrong", lang)
        return _Outcome("incorrect", 0.0, f"option-{opt.id}", fb, opt.pitfall, shown)
    if q.kind == "multi":
        sel, good = set(chosen), set(want)
        if sel == good:
            return _Outcome("correct", 1.0, "correct", msg("fb.correct", lang),
                            interpreted_as=shown)
        for node in q.tree:
            if _node_matches(ctx, node, answer, None):
                status, score, note, fb, pit = _from_node(node, lang)
                return _Outcome(status, score, note, fb, pit, shown)
        wrong = [c for c in chosen if c not in good]
        missing = [o.id for o in q.options if o.id in good and o.id not in sel]
        parts = [by_id[c].feedback.get(lang) for c in wrong if by_id[c].feedback]  # type: ignore[union-attr]
        if missing:
            parts.append(msg("fb.multi_missing", lang, ids=", ".join(missing)))
        pit = next((by_id[c].pitfall for c in wrong if by_id[c].pitfall), None)
        score = max(0.0, (len(sel & good) - len(wrong)) / max(1, len(good)))
        status = "partial" if score > 0 else "incorrect"
        note = "partial" if score > 0 else "incorrect"
        return _Outcome(status, score, note, " ".join(parts) or msg("fb.choice_wrong", lang),
                        pit, shown)
    # ordering
    if sorted(chosen) != sorted(want):
        return _Outcome("invalid", 0.0, "invalid",
                        msg("err.ordering_incomplete", lang, ids=ids), interpreted_as=shown)
    if chosen == want:
        return _Outcome("correct", 1.0, "correct", msg("fb.correct", lang), interpreted_as=shown)
    for node in q.tree:
        if _node_matches(ctx, node, answer, None):
            status, score, note, fb, pit = _from_node(node, lang)
            return _Outcome(status, score, note, fb, pit, shown)
    rank = {o: i for i, o in enumerate(want)}
    pairs = concordant = 0
    for i in range(len(chosen)):
        for j in range(i + 1, len(chosen)):
            pairs += 1
            concordant += rank[chosen[i]] < rank[chosen[j]]
    score = concordant / pairs if pairs else 0.0
    status = "partial" if score > 0 else "incorrect"
    return _Outcome(status, score, "partial-order" if score > 0 else "incorrect",
                    msg("fb.ordering", lang, good=concordant, total=pairs), interpreted_as=shown)


def _grade_text(ctx: _Context, answer: str) -> _Outcome:
    """Keywords only advise: the verdict is ``undetermined`` until the learner self-assesses
    (``graders.answers.selfassess``); a tree node for a known wrong answer still counts."""
    from graders.answers.selfassess import NEEDS_SELF_ASSESSMENT, rubric_points

    q, lang = ctx.q, ctx.lang
    if not answer.strip():
        return _Outcome("invalid", 0.0, "invalid", msg("err.empty", lang))
    if len(answer) > sx.MAX_CHARS * 2:
        return _Outcome("invalid", 0.0, "invalid",
                        msg("err.too_long", lang, n=len(answer), max=sx.MAX_CHARS * 2))
    text = _norm_text(answer)
    shown = sx.visible(answer.strip()[:200])
    for node in q.tree:  # a known misconception: evidence of a wrong answer, never of a right one
        if node.score < 1 and _node_matches(ctx, node, answer, None):
            status, score, note, fb, pit = _from_node(node, lang)
            return _Outcome(status, score, note, fb, pit, shown)
    total = sum(g.weight for g in q.keywords) or 1.0
    found = [i for i, g in enumerate(q.keywords, 1)
             if any(_norm_text(w) in text for w in g.any)]
    frac = sum(q.keywords[i - 1].weight for i in found) / total if q.keywords else 0.0
    points = " ".join(f"{i}. {p}" for i, p in enumerate(rubric_points(q, lang), 1))
    fb = msg("fb.self_assess", lang, found=", ".join(map(str, found)) or "-", points=points)
    return _Outcome("undetermined", round(frac, 4), NEEDS_SELF_ASSESSMENT, fb,
                    interpreted_as=shown)


def _split_lines(answer: str) -> list[str]:
    return [ln for ln in re.split(r"[\n;；]", answer) if ln.strip()]


def _grade_derivation(ctx: _Context, answer: str) -> _Outcome:
    from graders.answers import algebra

    q, lang = ctx.q, ctx.lang
    if q.answer is None:
        raise QuestionError(f"{q.id}: {msg('err.no_answer')}")
    expected = q.answer if isinstance(q.answer, list) else [q.answer]
    start = ctx.author(expected[0]) if len(expected) > 1 else None
    target = ctx.author(expected[-1])
    lines = _split_lines(answer)
    if not lines:
        return _Outcome("invalid", 0.0, "invalid", msg("err.empty", lang))
    steps: list[tuple[Any, str]] = []  # (sympy expr, shown)
    warnings: list[str] = []
    rendered: list[str] = []
    for i, line in enumerate(lines, 1):
        try:
            reading = sx.read(line, ctx.known)
            tree = reading.tree
            rendered.append(sx.render(tree))
            parts = list(tree.parts) if isinstance(tree, sx.Rel) and set(tree.ops) == {"="} \
                else [tree]
            for part in parts:
                steps.append((algebra.build_expr(part, ctx.env()), sx.render(part)))
        except sx.ParseError as exc:
            err = msg("err.derivation_line", lang, line=i, error=exc.render(lang))
            return _Outcome("invalid", 0.0, "invalid", err)
        warnings += [msg(k, lang, **f) for k, f in reading.warnings]
    shown = "; ".join(rendered)  # the same text as preview()
    if len(shown) > 300:
        shown = shown[:297] + "…"
    first_wrong = 0
    if start is not None and algebra.equivalent(steps[0][0], start.expr, seed=q.id) != "equal":
        first_wrong = 1
    if not first_wrong:
        for i in range(1, len(steps)):
            if algebra.equivalent(steps[i][0], steps[i - 1][0], seed=q.id) != "equal":
                first_wrong = i + 1
                break
    # every step is equivalent to the start, so "reaching the target" is about its form: the
    # last line must be the target's canonical form (or in the question's required form)
    last = steps[-1][0]
    reached = last == target.expr or any(last == ctx.author(a).expr for a in q.accept) or (
        q.form is not None and algebra.is_form(last, q.form)
        and algebra.equivalent(last, target.expr, seed=q.id) == "equal")
    if not first_wrong and reached:
        return _Outcome("correct", 1.0, "correct", msg("fb.correct", lang), interpreted_as=shown,
                        warnings=warnings)
    got = algebra.Value("expr", expr=steps[-1][0])
    for node in q.tree:
        if _node_matches(ctx, node, answer, got):
            status, score, note, fb, pit = _from_node(node, lang)
            return _Outcome(status, score, note, fb, pit, shown, warnings)
    if first_wrong == 1 and start is not None:
        fb = msg("fb.step_start", lang, step=steps[0][1], start=expected[0])
        return _Outcome("incorrect", 0.0, "step-1", fb, interpreted_as=shown, warnings=warnings)
    if first_wrong:
        fb = msg("fb.step_wrong", lang, n=first_wrong, step=steps[first_wrong - 1][1],
                 prev=first_wrong - 1, prev_step=steps[first_wrong - 2][1])
        return _Outcome("incorrect", 0.0, f"step-{first_wrong}", fb, interpreted_as=shown,
                        warnings=warnings)
    return _Outcome("partial", 0.5, "not-reached", msg("fb.step_end", lang),
                    interpreted_as=shown, warnings=warnings)


# ---------------------------------------------------------------------------------- entry points


def _apply_hints(q: Question, score: float, hints_used: int) -> float:
    cost = sum(h.cost for h in q.hints[: max(0, hints_used)])
    return max(0.0, score - cost)


def grade_local(question: Question, answer: str, *, seed: int | None = None, lang: str = "en",
                hints_used: int = 0) -> Verdict:
    """Grade in this process, with no time bound (``grade`` runs this in a bounded worker)."""
    t0 = time.perf_counter()
    ctx = _Context(question, seed, lang)
    kind = question.kind
    if len(answer) > sx.MAX_CHARS * (2 if kind == "text" else 1):
        limit = sx.MAX_CHARS * (2 if kind == "text" else 1)
        out = _Outcome("invalid", 0.0, "invalid", msg("err.too_long", lang, n=len(answer),
                                                      max=limit))
    elif kind in OPTION_KINDS:
        out = _grade_choice(ctx, answer)
    elif kind == "text":
        out = _grade_text(ctx, answer)
    elif kind == "derivation":
        out = _grade_derivation(ctx, answer)
    elif kind == "numeric" and question.unit is not None:
        out = _grade_with_unit(ctx, answer)
    else:
        out = _grade_expression(ctx, answer)
    score = out.score
    feedback = out.feedback
    if out.status not in ("invalid", "timeout") and hints_used > 0 and question.hints:
        used = question.hints[:hints_used]
        score = _apply_hints(question, score, hints_used)
        cost = sum(h.cost for h in used)
        if cost:
            feedback += " " + msg("fb.hints", lang, n=len(used), cost=f"{cost:g}")
    return Verdict(
        status=out.status, score=score, feedback=feedback, interpreted_as=out.interpreted_as,
        note=out.note, warnings=out.warnings, pitfall=out.pitfall,
        elapsed_ms=(time.perf_counter() - t0) * 1000,
    )


def preview(question: Question, answer: str, *, seed: int | None = None,
            lang: str = "en") -> Preview:
    """How ``answer`` would be read: fast, in-process, bounded, without computer algebra."""
    kind = question.kind
    limit = sx.MAX_CHARS * (2 if kind == "text" else 1)
    if len(answer) > limit:  # as grade_local: every kind, derivations too (lines add up)
        return Preview(False, error=msg("err.too_long", lang, n=len(answer), max=limit))
    try:
        if kind in OPTION_KINDS:
            chosen = _read_options(question, answer)
            return Preview(True, ", ".join(chosen))
        if kind == "text":
            if not answer.strip():
                raise sx.ParseError("err.empty")
            return Preview(True, sx.visible(answer.strip()[:200]))
        known = known_names(question)
        if kind == "derivation":
            lines = _split_lines(answer)
            if not lines:
                raise sx.ParseError("err.empty")
            shown: list[str] = []
            warns: list[str] = []
            for i, line in enumerate(lines, 1):
                try:
                    r = sx.read(line, known)
                except sx.ParseError as exc:
                    return Preview(False, error=msg("err.derivation_line", lang, line=i,
                                                    error=exc.render(lang)))
                shown.append(sx.render(r.tree))
                warns += [msg(k, lang, **f) for k, f in r.warnings]
            return Preview(True, "; ".join(shown), warns)
        unit = None
        if kind == "numeric" and question.unit is not None:  # whitelist only: no pint here
            from graders.answers.units import split_unit

            answer, unit = split_unit(answer.strip(), known)
        r = sx.read(_numeric_commas(question, answer), known)
        shown_num = sx.render(r.tree) + (f" {unit}" if unit else "")
        return Preview(True, shown_num, [msg(k, lang, **f) for k, f in r.warnings])
    except sx.ParseError as exc:
        return Preview(False, error=exc.render(lang))


def adhoc_question(expected: str, *, symbols: list[str] | None, assume: list[str]) -> Question:
    """A throw-away question comparing against ``expected`` (for ``tutor check --expected``)."""
    if symbols is None:
        try:
            symbols = sorted(sx.read(expected, None).names)
        except sx.ParseError:
            symbols = []
    kind = "expression"
    try:
        tree = sx.read(expected, set(symbols)).tree
        if isinstance(tree, sx.Rel):
            kind = "equation" if set(tree.ops) == {"="} else "inequality"
        elif isinstance(tree, sx.Seq):
            kind = "set"
        elif isinstance(tree, sx.Call) and tree.name == "O":
            kind = "asymptotic"
    except sx.ParseError:
        pass
    return Question.model_validate({
        "id": "adhoc", "level": 1, "concepts": ["adhoc"], "kind": kind,
        "prompt": {"en": "ad hoc", "zh-TW": "臨時"},
        "symbols": {s: list(assume) for s in symbols},
        "answer": expected,
        "cases": [{"answer": expected, "status": "correct"}],
    })
