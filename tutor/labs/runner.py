"""Running a lab script in a subprocess and turning its output into typed progress events.

``LabRun(...).events()`` yields ``Progress`` / ``LogLine`` events while the script runs and a final
``Finished``; the app's lab screen iterates it in a worker thread (``cancel()`` from the UI thread
stops the run). The protocol: the script prints JSON lines on stdout
(``{"event": "progress", "step": i, "total": n, "loss": x}``, ``{"event": "done"}``) and logs on
stderr; both go to the log file.

This is the learner's own code on the learner's machine, so it runs as a plain subprocess with a
time budget; untrusted submissions go through graders.sandbox (``tutor grade``) instead.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from graders.labs.launch import launch_argv, rank0_line
from graders.labs.spec import LabSpec

_PASS_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "USER", "TERM",
             "CUDA_VISIBLE_DEVICES", "TUTOR_LANG")
"""Variables of the caller's environment a lab run inherits; nothing else leaks in."""


@dataclass(frozen=True)
class Progress:
    """One training step reported by the script."""

    step: int
    """Steps done."""
    total: int
    """Steps planned (0 when unknown)."""
    loss: float | None
    """Loss of the step, if reported."""

    @property
    def fraction(self) -> float:
        return min(1.0, self.step / self.total) if self.total > 0 else 0.0


@dataclass(frozen=True)
class LogLine:
    """A stdout line that is not a progress event (other JSON events are kept as text)."""

    text: str
    """The line without its newline."""


@dataclass(frozen=True)
class Finished:
    """The run ended (always the last event)."""

    returncode: int
    """Exit code (negative: killed by a signal)."""
    elapsed_s: float
    """Wall-clock seconds."""
    done: bool
    """The script printed its final ``{"event": "done"}``."""
    timed_out: bool
    """Stopped because the time budget ran out."""
    cancelled: bool
    """Stopped by ``cancel()``."""
    out_dir: Path
    """Where the artifacts are."""
    log_path: Path
    """The log file (stdout and stderr)."""

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and self.done and not self.timed_out and not self.cancelled


LabEvent = Progress | LogLine | Finished


def parse_line(line: str) -> Progress | LogLine | None:
    """A stdout line as an event; ``None`` for ``{"event": "done"}`` (handled by the caller)."""
    text = rank0_line(line.rstrip("\n"))
    if text.startswith("{"):
        try:
            obj = json.loads(text)
        except ValueError:
            return LogLine(text)
        if isinstance(obj, dict) and obj.get("event") == "progress":
            try:
                loss = obj.get("loss")
                return Progress(int(obj.get("step", 0)), int(obj.get("total", 0) or 0),
                                float(loss) if isinstance(loss, int | float) else None)
            except (TypeError, ValueError):
                return LogLine(text)
        if isinstance(obj, dict) and obj.get("event") == "done":
            return None
    return LogLine(text)


@dataclass
class LabRun:
    """One run of a lab script: ``python -I <entry> --out OUT --data DATA --seed N``."""

    spec: LabSpec
    """The lab."""
    workdir: Path
    """Directory holding the files the run may see (see workspace.prepare_run_dir)."""
    out_dir: Path
    """OUTDIR for the artifacts."""
    data_dir: Path | None = None
    """Training data (``--data``)."""
    seed: int = 0
    """``--seed``."""
    heldout: Path | None = None
    """``--heldout`` (only the grader passes its held-out file)."""
    log_path: Path | None = None
    """Log file; default ``<out_dir>/../run.log``."""
    timeout_s: float | None = None
    """Time budget; default the spec's ``time_budget_s``."""
    python: str = sys.executable
    """Interpreter."""
    extra_env: dict[str, str] = field(default_factory=dict)
    """Added to the run's environment (tests)."""
    result: Finished | None = None
    """The final event once the run ended."""
    _cancel: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def command(self) -> list[str]:
        """The entry with the lab's ranks and launcher (graders.labs.launch, as the grader)."""
        args = ["--out", str(self.out_dir.resolve()), "--seed", str(self.seed)]
        if self.data_dir is not None:
            args += ["--data", str(self.data_dir.resolve())]
        if self.heldout is not None:
            args += ["--heldout", str(self.heldout.resolve())]
        return launch_argv(self.spec, self.python, self.spec.entry, args)

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k in _PASS_ENV}
        env.update(self.spec.env)
        threads = str(self.spec.cpu_threads)
        env.update({"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
                    "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads,
                    "PYTHONUNBUFFERED": "1", "PYTHONHASHSEED": "0", "PYTHONNOUSERSITE": "1",
                    "TOKENIZERS_PARALLELISM": "false"})
        env.update(self.extra_env)
        return env

    def cancel(self) -> None:
        """Stop the run (safe from another thread); ``events()`` then ends with cancelled=True."""
        self._cancel.set()

    def events(self) -> Iterator[LabEvent]:
        """Start the script and yield its events; the last one is always ``Finished``."""
        self.out_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_path or self.out_dir.parent / "run.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        limit = float(self.timeout_s or self.spec.time_budget_s)
        t0 = time.monotonic()
        done = timed_out = False
        with open(log_path, "w", encoding="utf-8") as log:
            log.write("$ " + " ".join(self.command) + "\n")
            log.flush()
            proc = subprocess.Popen(
                self.command, cwd=self.workdir, env=self.env, stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=log, text=True, encoding="utf-8",
                errors="replace", bufsize=1, start_new_session=True,
            )
            lines: queue.Queue[str | None] = queue.Queue()
            reader = threading.Thread(target=_pump, args=(proc.stdout, lines), daemon=True)
            reader.start()
            try:
                while True:
                    if self._cancel.is_set():
                        break
                    if time.monotonic() - t0 > limit:
                        timed_out = True
                        break
                    try:
                        line = lines.get(timeout=0.1)
                    except queue.Empty:
                        continue
                    if line is None:
                        break
                    log.write(line if line.endswith("\n") else line + "\n")
                    event = parse_line(line)
                    if event is None:
                        done = True
                        continue
                    yield event
            finally:
                _kill_group(proc)
                reader.join(timeout=2)
        self.result = Finished(
            returncode=proc.returncode if proc.returncode is not None else -9,
            elapsed_s=time.monotonic() - t0, done=done, timed_out=timed_out,
            cancelled=self._cancel.is_set() and not timed_out, out_dir=self.out_dir,
            log_path=log_path,
        )
        yield self.result

    def run(self) -> Finished:
        """Run to the end, discarding progress; the final event."""
        last: LabEvent | None = None
        for event in self.events():
            last = event
        assert isinstance(last, Finished)
        return last


def _pump(stream: IO[str] | None, out: queue.Queue[str | None]) -> None:
    if stream is not None:
        for line in stream:
            out.put(line)
    out.put(None)


def _kill_group(proc: subprocess.Popen[Any]) -> None:
    """Wait briefly for a natural exit, then TERM and KILL the run's whole process group."""
    try:
        proc.wait(timeout=0.5 if proc.poll() is None else 0)
    except subprocess.TimeoutExpired:
        pass
    for sig, wait in ((signal.SIGTERM, 3.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            break
        try:
            proc.wait(timeout=wait)
            if sig == signal.SIGTERM:
                # children of the group may survive their parent: finish them too
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            break
        except subprocess.TimeoutExpired:
            continue
    proc.wait()


def tail(path: Path, lines: int = 15) -> str:
    """The last lines of a log file."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])
