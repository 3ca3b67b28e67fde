"""The ``spawn`` launcher: start N ranks of a lab entry on one machine (stdlib only).

Run as a script (the grader copies it into the run directory, so it needs nothing but Python)::

    python -I ranks.py --nproc 2 [--log-dir logs] -- python -I train.py --out out ...

Each rank gets torchrun's variables (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR
127.0.0.1, MASTER_PORT a free loopback port, TORCHELASTIC_RUN_ID), so an entry written for
``torchrun`` runs unchanged. Every output line is kept in ``<log-dir>/rank<r>.log`` and echoed with
a ``[rank r] `` prefix, except rank 0's stdout, which passes through as is (the JSON progress
events the runner parses). When one rank exits non-zero, or this launcher gets SIGTERM/SIGINT (the
runner's or the sandbox's wall limit), every rank is killed; the exit code is the first failing
rank's (or 0 when all succeed).
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

POLL_S = 0.05
"""How often the launcher looks at its ranks."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now (the rendezvous of rank 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rank_env(base: dict[str, str], rank: int, world: int, port: int) -> dict[str, str]:
    """The environment of one rank (torchrun's names)."""
    env = dict(base)
    env.update({"RANK": str(rank), "WORLD_SIZE": str(world), "LOCAL_RANK": str(rank),
                "LOCAL_WORLD_SIZE": str(world), "GROUP_RANK": "0", "MASTER_ADDR": "127.0.0.1",
                "MASTER_PORT": str(port), "TORCHELASTIC_RUN_ID": "lab"})
    return env


def _pump(stream: IO[bytes], rank: int, raw: bool, sink: IO[str], log: IO[str],
          lock: threading.Lock) -> None:
    for data in iter(stream.readline, b""):
        line = data.decode("utf-8", "replace").rstrip("\n")
        with lock:
            log.write(line + "\n")
            log.flush()
            sink.write((line if raw else f"[rank {rank}] {line}") + "\n")
            sink.flush()


def launch(cmd: list[str], nproc: int, log_dir: Path) -> int:
    """Run ``cmd`` as ``nproc`` ranks; the exit code of the first rank that failed, else 0."""
    log_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    lock = threading.Lock()
    procs: list[subprocess.Popen[bytes]] = []
    threads: list[threading.Thread] = []
    logs: list[IO[str]] = []
    stop = threading.Event()

    def _stop(_sig: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    for rank in range(nproc):
        log: IO[str] = open(log_dir / f"rank{rank}.log", "w", encoding="utf-8")  # noqa: SIM115
        logs.append(log)  # closed after every rank ended
        proc = subprocess.Popen(cmd, env=rank_env(dict(os.environ), rank, nproc, port),
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        procs.append(proc)
        for stream, raw, sink in ((proc.stdout, rank == 0, sys.stdout),
                                  (proc.stderr, False, sys.stderr)):
            assert stream is not None
            t = threading.Thread(target=_pump, args=(stream, rank, raw, sink, log, lock),
                                 daemon=True)
            t.start()
            threads.append(t)
    code = 0
    while not stop.is_set():
        codes = [p.poll() for p in procs]
        failed = [c for c in codes if c not in (None, 0)]
        if failed:
            code = failed[0] if failed[0] > 0 else 128 - failed[0]
            bad = [r for r, c in enumerate(codes) if c not in (None, 0)]
            with lock:
                print(f"[launcher] rank {bad[0]} exited with {codes[bad[0]]}: stopping every rank",
                      file=sys.stderr, flush=True)
            break
        if all(c == 0 for c in codes):
            break
        time.sleep(POLL_S)
    if stop.is_set():
        code = 143
    for p in procs:  # the ranks are this launcher's children; none outlives it
        if p.poll() is None:
            p.kill()
    for p in procs:
        p.wait()
    for t in threads:
        t.join(timeout=2)
    for f in logs:
        f.close()
    return code


def main(argv: list[str] | None = None) -> int:
    """Command-line entry (see the module docstring)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if "--" not in args:
        print("usage: ranks.py --nproc N [--log-dir DIR] -- CMD ...", file=sys.stderr)
        return 2
    cut = args.index("--")
    p = argparse.ArgumentParser(prog="ranks.py")
    p.add_argument("--nproc", type=int, required=True)
    p.add_argument("--log-dir", type=Path, default=Path("logs"))
    opts = p.parse_args(args[:cut])
    cmd = args[cut + 1:]
    if not cmd or not 1 <= opts.nproc <= 64:
        print("ranks.py: a command and 1 <= --nproc <= 64 are required", file=sys.stderr)
        return 2
    return launch(cmd, opts.nproc, opts.log_dir)


if __name__ == "__main__":
    sys.exit(main())
