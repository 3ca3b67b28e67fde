"""Handlers of `tutor estimate` and `tutor grade` (registered in tutor/cli/labs.py)."""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

_MSG: dict[str, dict[str, str]] = {
    "bad_params": {
        "en": "error: --params must be a positive number such as 7e9 or 7B, got {value!r}",
        "zh-TW": "錯誤：--params 必須是正數，例如 7e9 或 7B，收到 {value!r}",
    },
    "estimate_error": {"en": "error: {msg}", "zh-TW": "錯誤：{msg}"},
    "advice": {"en": "Decision tree: {rec}", "zh-TW": "決策樹建議：{rec}"},
    "fits": {"en": "fits in {gb:g} GB per GPU: {yes}", "zh-TW": "每張 {gb:g} GB 放得下：{yes}"},
    "yes": {"en": "yes", "zh-TW": "是"},
    "no": {"en": "no", "zh-TW": "否"},
    "need_submission": {
        "en": "error: give a SUBMISSION directory or --batch DIR",
        "zh-TW": "錯誤：請提供 SUBMISSION 目錄或 --batch DIR",
    },
    "both": {
        "en": "error: give either SUBMISSION or --batch DIR, not both",
        "zh-TW": "錯誤：SUBMISSION 與 --batch DIR 只能擇一",
    },
    "not_dir": {"en": "error: {path} is not a directory", "zh-TW": "錯誤：{path} 不是目錄"},
    "unknown_lab": {"en": "error: unknown lab {lab!r}: {msg}", "zh-TW": "錯誤：未知的實驗 {lab!r}：{msg}"},
    "batch_out": {
        "en": "error: --batch needs --out gradebook.csv",
        "zh-TW": "錯誤：--batch 需要 --out gradebook.csv",
    },
    "jobs": {"en": "error: --jobs must be at least 1", "zh-TW": "錯誤：--jobs 至少為 1"},
    "timeout": {"en": "error: --timeout must be positive", "zh-TW": "錯誤：--timeout 必須為正數"},
    "grader_failed": {
        "en": "grader error (not the submission's fault): {msg}",
        "zh-TW": "評分器錯誤（不是提交的問題）：{msg}",
    },
    "written": {"en": "report written: {path}", "zh-TW": "報告已寫入：{path}"},
    "batch_done": {
        "en": "gradebook written: {path} ({n} submissions, {errors} grader errors, {wall:.1f} s)",
        "zh-TW": "成績簿已寫入：{path}（{n} 份提交，{errors} 個評分器錯誤，{wall:.1f} 秒）",
    },
}


def _m(key: str, lang: str, **fields: object) -> str:
    entry = _MSG[key]
    return entry.get(lang, entry["en"]).format(**fields)


_SUFFIX = {"k": 1e3, "m": 1e6, "b": 1e9, "t": 1e12}


def parse_count(text: str) -> float:
    """'7e9', '7B', '1.3b', '350M' -> a float; ValueError otherwise (never evaluates)."""
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([kKmMbBtT]?)\s*", text or "")
    if not m:
        raise ValueError(text)
    value = float(m.group(1)) * _SUFFIX.get(m.group(2).lower(), 1.0)
    if not value > 0:
        raise ValueError(text)
    return value


def estimate_command(args: argparse.Namespace) -> int:
    """`tutor estimate`: print the breakdown (table or JSON); exit 2 on impossible inputs."""
    from graders.estimate import EstimateError, ModelShape, Setup, advise, estimate, format_table

    lang = getattr(args, "lang", "en") or "en"
    params = None
    if args.params is not None:
        try:
            params = parse_count(args.params)
        except ValueError:
            print(_m("bad_params", lang, value=args.params), file=sys.stderr)
            return 2
    shape = None
    if args.layers or args.hidden or args.heads:
        if not (args.layers and args.hidden and args.heads):
            print(_m("estimate_error", lang, msg="--layers, --hidden and --heads go together"),
                  file=sys.stderr)
            return 2
        shape = ModelShape(layers=args.layers, hidden=args.hidden, heads=args.heads,
                           kv_heads=args.kv_heads, vocab=args.vocab, ffn=args.ffn,
                           gated_mlp=args.gated_mlp, tied_embeddings=not args.untied_head)
        if args.hidden % args.heads or (args.kv_heads and args.heads % args.kv_heads):
            print(_m("estimate_error", lang,
                     msg="heads must divide hidden, and kv-heads must divide heads"),
                  file=sys.stderr)
            return 2
    try:
        setup = Setup(
            params=params, shape=shape, method=args.method, gpus=args.gpus, nodes=args.nodes,
            precision=args.precision, optimizer=args.optimizer, zero=args.zero,
            offload=args.offload, rank=args.rank, lora_targets=args.targets, batch=args.batch,
            seq_len=args.seq_len, gradient_checkpointing=args.checkpointing,
            flash_attention=args.flash, convention=args.convention,
        )
        est = estimate(setup)
        adv = advise(est.params / 1e9, args.gpus, args.gpu_mem) if args.advise else None
    except EstimateError as exc:
        print(_m("estimate_error", lang, msg=str(exc)), file=sys.stderr)
        return 2
    if args.json:
        out = est.to_dict()
        out["fits"] = est.fits(args.gpu_mem)
        out["gpu_mem_gb"] = args.gpu_mem
        if adv is not None:
            out["advice"] = {"recommendation": adv.recommendation, "concepts": adv.concepts,
                             "reasons": adv.reasons, "fitting": adv.fitting,
                             "estimates_gb": adv.estimates}
        json.dump(out, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 0
    print(format_table(est, lang))
    yes = _m("yes" if est.fits(args.gpu_mem) else "no", lang)
    print(_m("fits", lang, gb=args.gpu_mem, yes=yes))
    if adv is not None:
        print()
        print(_m("advice", lang, rec=adv.recommendation.get(lang, adv.recommendation["en"])))
        for reason in adv.reasons:
            print("  - " + reason.get(lang, reason["en"]))
    return 0


def _engine_mastery(args: Any, db: str | None) -> dict[str, dict[str, Any]] | None:
    """The learner's concept mastery from the adaptive engine (BKT, resets honoured), for the
    rubric's concepts bucket; None when there is no database or learner to read, or the course
    does not load (the grader then falls back to averaging raw quiz scores)."""
    if not db or not Path(db).is_file():
        return None
    try:
        from tutor.cli.common import course_dir
        from tutor.curriculum.loader import load_course
        from tutor.engine import Engine
        from tutor.store import Store

        engine = Engine(load_course(course_dir(args)), Store(db))
        states = engine.mastery(args.learner or "default")
    except Exception:  # noqa: BLE001 - evidence is optional; the grader reports "no evidence"
        return None
    return {cid: {"p_known": st.p_known, "state": st.state} for cid, st in states.items()}


def grade_command(args: argparse.Namespace) -> int:
    """`tutor grade`: 0 report written, 1 grader failure (a report with status grader_error,
    or any in a batch: the batch still grades the rest and writes the gradebook), 2 bad command
    line / unknown lab."""
    from graders.grade import GraderError, grade_batch, grade_to_file, resolve_lab

    lang = getattr(args, "lang", "en") or "en"
    if args.submission and args.batch:
        print(_m("both", lang), file=sys.stderr)
        return 2
    if not args.submission and not args.batch:
        print(_m("need_submission", lang), file=sys.stderr)
        return 2
    if args.jobs < 1:
        print(_m("jobs", lang), file=sys.stderr)
        return 2
    if args.timeout is not None and not args.timeout > 0:
        print(_m("timeout", lang), file=sys.stderr)
        return 2
    target = Path(args.batch or args.submission)
    if not target.is_dir():
        print(_m("not_dir", lang, path=target), file=sys.stderr)
        return 2
    try:
        lab_dir = resolve_lab(args.lab, getattr(args, "curriculum", None))
    except LookupError as exc:
        print(_m("unknown_lab", lang, lab=args.lab, msg=exc), file=sys.stderr)
        return 2
    db = getattr(args, "db", None)
    if db is None and args.learner:  # --learner alone: that learner in the default database
        from tutor.paths import default_db_path

        db = str(default_db_path())
    mastery = _engine_mastery(args, db)
    try:
        if args.batch:
            if not args.out:
                print(_m("batch_out", lang), file=sys.stderr)
                return 2
            summary = grade_batch(target, lab_dir, out_csv=Path(args.out), jobs=args.jobs,
                                  seed=args.seed, timeout=args.timeout, fmt=args.format,
                                  learner_db=db, learner=args.learner, lang=lang,
                                  concept_mastery=mastery,
                                  curriculum=getattr(args, "curriculum", None))
            print(_m("batch_done", lang, path=args.out, n=summary.count,
                     errors=summary.grader_errors, wall=summary.wall_s), file=sys.stderr)
            return 1 if summary.grader_errors else 0  # the gradebook is written either way
        report, text = grade_to_file(target, lab_dir, seed=args.seed, timeout=args.timeout,
                                     fmt=args.format, out=Path(args.out) if args.out else None,
                                     learner_db=db, learner=args.learner, lang=lang,
                                     concept_mastery=mastery,
                                     curriculum=getattr(args, "curriculum", None))
    except GraderError as exc:
        print(_m("grader_failed", lang, msg=exc), file=sys.stderr)
        return 1
    if args.out:
        print(_m("written", lang, path=args.out), file=sys.stderr)
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 1 if report.status == "grader_error" else 0
