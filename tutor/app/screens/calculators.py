"""Calculators: the training-memory estimator with terminal plots, and the decision-tree advisor.

Numbers come from the headless estimator (graders/estimate.py, through ``Services``); the plots
are plain Unicode bars drawn here (no plotting dependency).
"""

from __future__ import annotations

import math
from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Label, Select, Static, TabbedContent, TabPane

from tutor.app.screens.base import TutorInput, TutorScreen
from tutor.app.services import Unavailable, unicode_bar

METHODS = ("full", "lora", "qlora", "zero1", "zero2", "zero3", "offload")
PRECISIONS = ("bf16", "fp16", "fp32")
SIZES_B = (0.125, 0.35, 1.0, 3.0, 7.0, 13.0, 34.0, 70.0)
RANKS = (1, 2, 4, 8, 16, 32, 64, 128)
SEQ_LENS = (512, 1024, 2048, 4096, 8192, 16384, 32768)


def parse_number(text: str) -> float | None:
    """A positive finite number such as ``7e9``, ``7B``, ``13b``, ``350M``, ``24`` (no eval)."""
    t = text.strip().replace("_", "").replace(",", "").lower()
    mult = 1.0
    if t.endswith(("b", "m", "k")):
        mult = {"b": 1e9, "m": 1e6, "k": 1e3}[t[-1]]
        t = t[:-1]
    try:
        v = float(t) * mult
    except ValueError:
        return None
    return v if math.isfinite(v) and v > 0 else None


def human_bytes(n: float) -> str:
    for unit, div in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if n >= div:
            return f"{n / div:.1f} {unit}"
    return f"{n:.0f} B"


def bar_plot(rows: list[tuple[str, float]], width: int, fmt: Any, log: bool = False) -> str:
    """Horizontal bars, one per row (label, value); ``log`` scales bars by log10."""
    if not rows:
        return ""
    vals = [v for _, v in rows]
    if log:
        lo = math.log10(max(min(v for v in vals if v > 0), 1e-12))
        hi = math.log10(max(vals))
        span = hi - lo or 1.0
        fracs = [(math.log10(v) - lo) / span * 0.9 + 0.1 if v > 0 else 0.0 for v in vals]
    else:
        top = max(vals) or 1.0
        fracs = [v / top for v in vals]
    lw = max(len(label) for label, _ in rows)
    return "\n".join(f"{label.rjust(lw)} {unicode_bar(f, width)} {fmt(v)}"
                     for (label, v), f in zip(rows, fracs, strict=True))


class CalculatorsScreen(TutorScreen):
    """Memory estimator, plots, and the technique advisor."""

    # parsed on first mount of the screen, not at start-up
    DEFAULT_CSS = """
    #calc-tabs {
        height: 1fr;
    }

    #calc-result, #calc-plot-size, #plot-lora, #plot-attn, #adv-result {
        height: auto;
        padding: 0 1;
    }
    """

    MODE = "calculators"
    TITLE_KEY = "calc.title"

    def compose_body(self) -> ComposeResult:
        with TabbedContent(id="calc-tabs"):
            with TabPane(self.s("calc.tab.memory"), id="tab-memory"):
                with VerticalScroll():
                    with Horizontal(classes="form-row"):
                        yield Label(self.s("calc.params"))
                        yield TutorInput("7e9", id="calc-params", classes="short",
                                         tooltip=self.s("calc.params_tip"))
                        yield Label(self.s("calc.gpus"))
                        yield TutorInput("1", id="calc-gpus", classes="tiny")
                        yield Label(self.s("calc.rank"))
                        yield TutorInput("8", id="calc-rank", classes="tiny")
                    with Horizontal(classes="form-row"):
                        yield Label(self.s("calc.method"))
                        yield Select([(self.s(f"calc.method.{m}"), m) for m in METHODS],
                                     value="lora", allow_blank=False, id="calc-method")
                        yield Label(self.s("calc.precision"))
                        yield Select([(p, p) for p in PRECISIONS], value="bf16",
                                     allow_blank=False, id="calc-precision")
                        yield Button(self.s("calc.compute"), id="calc-go", compact=True,
                                     variant="primary")
                    yield Static("", id="calc-result")
                    yield Static("", id="calc-plot-size")
            with TabPane(self.s("calc.tab.plots"), id="tab-plots"):
                with VerticalScroll():
                    yield Static(self._lora_plot(), id="plot-lora")
                    yield Static(self._attention_plot(), id="plot-attn")
            with TabPane(self.s("calc.tab.advisor"), id="tab-advisor"):
                with VerticalScroll():
                    with Horizontal(classes="form-row"):
                        yield Label(self.s("calc.params"))
                        yield TutorInput("13e9", id="adv-params", classes="short")
                        yield Label(self.s("calc.gpus"))
                        yield TutorInput("1", id="adv-gpus", classes="tiny")
                        yield Label(self.s("calc.gpu_mem"))
                        yield TutorInput("24", id="adv-mem", classes="tiny")
                        yield Button(self.s("calc.advise"), id="adv-go", compact=True,
                                     variant="primary")
                    yield Static("", id="adv-result")

    def after_recompose(self) -> None:
        self.compute()
        self.advise()

    # ------------------------------------------------------------------ estimator
    def _inputs(self) -> tuple[float | None, int | None, int | None, str, str]:
        params = parse_number(self.query_one("#calc-params", TutorInput).value)
        gpus = parse_number(self.query_one("#calc-gpus", TutorInput).value)
        rank = parse_number(self.query_one("#calc-rank", TutorInput).value)
        method = str(self.query_one("#calc-method", Select).value)
        precision = str(self.query_one("#calc-precision", Select).value)
        return (params, int(gpus) if gpus and gpus < 1e5 else None,
                int(rank) if rank and rank < 1e5 else None, method, precision)

    def compute(self) -> None:
        out = self.query_one("#calc-result", Static)
        plot = self.query_one("#calc-plot-size", Static)
        params, gpus, rank, method, precision = self._inputs()
        if params is None or gpus is None or rank is None:
            out.update("[magenta]" + self.s("calc.bad_input") + "[/]")
            return
        try:
            est = self.svc.estimate(params=params, method=method, gpus=gpus,
                                    precision=precision, rank=rank, lang=self.lang)
        except Unavailable as exc:
            out.update("[yellow]" + self.s("error.unavailable", what=str(exc)) + "[/]")
            plot.update("")
            return
        except (ValueError, TypeError) as exc:
            out.update("[magenta]" + str(exc) + "[/]")
            return
        lines = [self.s("calc.per_gpu", total=human_bytes(est.total_bytes),
                        method=self.s(f"calc.method.{method}"), gpus=gpus)]
        from rich.cells import cell_len  # East Asian characters take two cells

        width = max((cell_len(t.name) for t in est.terms), default=8)
        for term in est.terms:
            pad = " " * (width - cell_len(term.name))
            lines.append(f"  {term.name}{pad}  {human_bytes(term.bytes).rjust(9)}"
                         f"  [dim]{term.formula}[/]")
        out.update("\n".join(lines))
        rows = []
        for b in SIZES_B:
            try:
                e = self.svc.estimate(params=b * 1e9, method=method, gpus=gpus,
                                      precision=precision, rank=rank)
                rows.append((f"{b:g}B", e.total_bytes))
            except (Unavailable, ValueError, TypeError):
                break
        plot.update(f"\n[b]{self.s('calc.plot.size', method=self.s(f'calc.method.{method}'))}[/]\n"
                    + bar_plot(rows, 30, human_bytes))

    def _lora_plot(self) -> str:
        d = k = 4096
        layers, mats = 32, 2  # a 7B Llama: q and v adapted in 32 layers
        rows = [(f"r={r}", float(r * (d + k) * layers * mats)) for r in RANKS]
        full = d * k * layers * mats
        return (f"[b]{self.s('calc.plot.lora')}[/]\n"
                + bar_plot(rows, 30, lambda v: f"{v / 1e6:.2f} M ({v / full:.2%})")
                + f"\n[dim]{self.s('calc.plot.lora_note')}[/]\n")

    def _attention_plot(self) -> str:
        heads, batch, bytes_per = 32, 1, 2  # fp16 scores, one sequence
        head_dim = 128
        rows_std = [(f"N={n}", float(batch * heads * n * n * bytes_per)) for n in SEQ_LENS]
        rows_flash = [(f"N={n}", float(batch * heads * n * head_dim * bytes_per * 2))
                      for n in SEQ_LENS]
        return (f"[b]{self.s('calc.plot.attn_std')}[/]\n" + bar_plot(rows_std, 30, human_bytes, log=True)
                + f"\n\n[b]{self.s('calc.plot.attn_flash')}[/]\n"
                + bar_plot(rows_flash, 30, human_bytes, log=True)
                + f"\n[dim]{self.s('calc.plot.attn_note')}[/]")

    # ------------------------------------------------------------------ advisor
    def advise(self) -> None:
        out = self.query_one("#adv-result", Static)
        params = parse_number(self.query_one("#adv-params", TutorInput).value)
        gpus = parse_number(self.query_one("#adv-gpus", TutorInput).value)
        mem = parse_number(self.query_one("#adv-mem", TutorInput).value)
        if params is None or gpus is None or mem is None:
            out.update("[magenta]" + self.s("calc.bad_input") + "[/]")
            return
        params_b = params / 1e9 if params >= 1e6 else params
        lang = self.lang
        lines: list[str] = []
        rule = self.svc.decision_rule(params_b)
        if rule is not None:
            lines.append(f"[b]{self.s('calc.tree')}[/] {rule.recommendation.get(lang)}")
            lines.append(rule.rationale.get(lang))
            if rule.concepts:
                lines.append(self.s("calc.learn", concepts=", ".join(
                    self.svc.concept_title(c, lang) for c in rule.concepts)))
        try:
            advice = self.svc.advise(params_b, int(gpus), mem, self.lang)
            lines += ["", f"[b]{self.s('calc.estimator_says')}[/]", advice]
        except Unavailable as exc:
            lines += ["", "[yellow]" + self.s("error.unavailable", what=str(exc)) + "[/]"]
        except (ValueError, TypeError) as exc:
            lines += ["", "[magenta]" + str(exc) + "[/]"]
        out.update("\n".join(lines))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "calc-go":
            self.compute()
        elif event.button.id == "adv-go":
            self.advise()

    def on_input_submitted(self, event: TutorInput.Submitted) -> None:
        if (event.input.id or "").startswith("calc-"):
            self.compute()
        elif (event.input.id or "").startswith("adv-"):
            self.advise()

    def on_select_changed(self, event: Select.Changed) -> None:
        if (event.select.id or "").startswith("calc-") and self.is_mounted:
            self.compute()


