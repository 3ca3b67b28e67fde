"""Run an untrusted command with hard limits and leave no process behind.

Isolation, strongest first (the first that works on this machine is used and recorded in
:attr:`SandboxResult.isolation`):

``namespaces+uid``
    The grader is root: ``unshare --pid --fork --kill-child --net --mount --mount-proc --ipc``
    with the trusted init ``_init.py`` as pid 1; loopback only; an allow-list view of the
    filesystem (the interpreter's paths, system directories, the run directory: see
    ``_init.build_view`` and :func:`interpreter_paths`); the submission runs as a fresh
    unprivileged uid/gid (one per run, so RLIMIT_NPROC counts only this run's processes) with
    no_new_privs. When pid 1 exits, the kernel kills every process of the namespace, so a
    double-forked daemon cannot outlive the run.
``namespaces+userns``
    Not root but unprivileged user namespaces work: same namespaces and view; the submission
    runs as an ordinary uid of a nested user namespace (no capability over the view's mounts).
``rlimits+session``
    Neither: a new session and process group with rlimits; at the end the group is killed and
    /proc is scanned for processes that carry this run's marker in their environment.

In every mode: RLIMIT_CPU/AS/FSIZE/NOFILE/NPROC (NPROC only with a private uid), a wall-clock
limit, a disk quota on the work directory checked while it runs, stdout/stderr captured to files
and truncated, and the whole process tree killed at the end. Fail closed: when the view cannot
be built or the command cannot be executed, :class:`SandboxError` is raised (never a
:class:`SandboxResult` with exit code 126/127 that could be mistaken for the submission's).
"""

from __future__ import annotations

import ast
import functools
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from graders.sandbox.files import remove_tree, walk

_INIT = Path(__file__).with_name("_init.py")
MARKER_VAR = "TUTOR_SANDBOX_RUN"
"""Environment variable carrying the run's marker (found in /proc/<pid>/environ)."""
_UID_RANGE = (200_000, 260_000)
"""Per-run uids are drawn from this range (no passwd entry needed)."""


@dataclass(frozen=True)
class Limits:
    """Hard limits for one sandboxed run."""

    wall_s: float = 60.0
    """Wall-clock limit in seconds; the whole tree is killed when it passes."""
    cpu_s: int | None = None
    """RLIMIT_CPU in seconds per process (default: the wall limit, rounded up, plus 1)."""
    memory_mb: int = 4096
    """RLIMIT_AS in MiB per process; importing torch+transformers+peft needs about 1 GiB."""
    fsize_mb: int = 64
    """RLIMIT_FSIZE in MiB: the largest file a process may write (stdout capture included)."""
    disk_mb: int = 256
    """Total size of the work directory; checked while the run goes."""
    nofile: int = 256
    """RLIMIT_NOFILE: open file descriptors per process."""
    nproc: int = 256
    """RLIMIT_NPROC: processes + threads of the run's private uid (ignored without one)."""
    output_kb: int = 64
    """Stdout and stderr are each kept to this many KiB (head and tail)."""


@dataclass
class SandboxResult:
    """What happened to one sandboxed run."""

    returncode: int | None
    """Exit code; negative = killed by that signal; None if it never started."""
    timed_out: bool
    """The wall-clock limit was reached."""
    killed_reason: str | None
    """timeout, cpu, memory, file-size, disk, signal N, or None for a normal exit."""
    stdout: str
    """Captured standard output (head and tail kept when longer than the limit)."""
    stderr: str
    """Captured standard error (same truncation)."""
    wall_s: float
    """Seconds from start to the end of the cleanup."""
    max_rss: int
    """Largest resident set of any process of the run, in KiB (0 if unknown)."""
    isolation: str = "rlimits+session"
    """Which isolation was in effect (see the module docstring)."""
    notes: list[str] = field(default_factory=list)
    """What the sandbox did (hidden paths, leftovers killed, refused files)."""
    leftover_killed: int = 0
    """Processes still alive after the main one ended that the cleanup killed."""
    stdout_truncated: bool = False
    """Standard output was longer than the limit."""
    stderr_truncated: bool = False
    """Standard error was longer than the limit."""


class SandboxError(Exception):
    """The sandbox itself could not run (the grader's problem, not the submission's)."""


# ----------------------------------------------------------------------------------------------
# isolation probing
# ----------------------------------------------------------------------------------------------

_NS_FLAGS = ["--pid", "--fork", "--kill-child", "--net", "--mount", "--mount-proc", "--ipc"]
"""A private IPC namespace too: SysV shared memory and message queues die with the run."""


@functools.cache
def _probe(mode: str) -> bool:
    unshare = shutil.which("unshare")
    if unshare is None:
        return False
    cmd = [unshare, *_NS_FLAGS, "true"]
    if mode == "namespaces+userns":
        cmd = [unshare, "--user", "--map-root-user", *_NS_FLAGS, "true"]
    try:
        return subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              timeout=10).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def available_isolation() -> str:
    """The strongest isolation this machine allows (TUTOR_SANDBOX_ISOLATION can weaken it)."""
    forced = os.environ.get("TUTOR_SANDBOX_ISOLATION", "").strip()
    order = ["namespaces+uid", "namespaces+userns", "rlimits+session"]
    if forced in order:
        order = order[order.index(forced):]
    for mode in order:
        if mode == "namespaces+uid" and os.geteuid() == 0 and _probe(mode):
            return mode
        if mode == "namespaces+userns" and os.geteuid() != 0 and _probe(mode):
            return mode
        if mode == "rlimits+session":
            return mode
    return "rlimits+session"


# ----------------------------------------------------------------------------------------------
# process bookkeeping
# ----------------------------------------------------------------------------------------------


def _pids() -> list[int]:
    return [int(n) for n in os.listdir("/proc") if n.isdigit()]


def _proc_uid(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("Uid:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def _proc_has_marker(pid: int, marker: bytes) -> bool:
    try:
        with open(f"/proc/{pid}/environ", "rb") as fh:
            return marker in fh.read().split(b"\0")
    except OSError:
        return False


def _proc_sid(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            tail = fh.read().rsplit(")", 1)[1].split()
        return int(tail[3])  # state ppid pgrp session
    except (OSError, ValueError, IndexError):
        return None


def _members(uid: int | None, marker: bytes, sid: int | None) -> list[int]:
    """Processes that belong to the run: its private uid, its marker or its session."""
    me = os.getpid()
    found = []
    for pid in _pids():
        if pid == me:
            continue
        if uid is not None and _proc_uid(pid) == uid:
            found.append(pid)
        elif sid is not None and _proc_sid(pid) == sid:
            found.append(pid)
        elif _proc_has_marker(pid, marker):
            found.append(pid)
    return found


def _peak_rss_kb(pids: list[int]) -> int:
    """Largest VmHWM (peak resident set, KiB) among ``pids``."""
    peak = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as fh:
                for line in fh:
                    if line.startswith("VmHWM:"):
                        peak = max(peak, int(line.split()[1]))
                        break
        except (OSError, ValueError, IndexError):
            continue
    return peak


def _kill_all(uid: int | None, marker: bytes, sid: int | None, deadline_s: float = 5.0) -> int:
    """SIGKILL every process of the run until none is left; return how many were killed."""
    killed: set[int] = set()
    end = time.monotonic() + deadline_s
    while True:
        members = _members(uid, marker, sid)
        if not members:
            return len(killed)
        for pid in members:
            try:
                os.kill(pid, signal.SIGKILL)
                killed.add(pid)
            except (ProcessLookupError, PermissionError):
                pass
        if time.monotonic() > end:
            raise SandboxError(f"processes of the run survive SIGKILL: {members}")
        time.sleep(0.05)


def _count_tasks(uid: int) -> int:
    """Processes and threads of ``uid`` (what RLIMIT_NPROC counts)."""
    total = 0
    for pid in _pids():
        if _proc_uid(pid) == uid:
            try:
                total += len(os.listdir(f"/proc/{pid}/task"))
            except OSError:
                continue
    return total


def _pick_uid() -> int:
    taken = {u for u in (_proc_uid(p) for p in _pids()) if u is not None}
    for _ in range(100):
        uid = secrets.randbelow(_UID_RANGE[1] - _UID_RANGE[0]) + _UID_RANGE[0]
        if uid not in taken:
            return uid
    raise SandboxError("no free uid for the sandbox")


# ----------------------------------------------------------------------------------------------
# files
# ----------------------------------------------------------------------------------------------


def _tree_size(root: Path, cap: int) -> int:
    """Bytes under ``root`` (stops counting once past ``cap``); never follows symlinks."""
    total = 0
    stack = [str(root)]
    while stack:
        d = stack.pop()
        try:
            with os.scandir(d) as it:
                for e in it:
                    try:
                        if e.is_dir(follow_symlinks=False):
                            stack.append(e.path)
                        else:
                            total += e.stat(follow_symlinks=False).st_blocks * 512
                    except OSError:
                        continue
                    if total > cap:
                        return total
        except OSError:
            continue
    return total


def _chown_tree(root: Path, uid: int) -> None:
    os.chown(root, uid, uid, follow_symlinks=False)
    for dirpath, dirnames, filenames in walk(root):
        for n in dirnames + filenames:
            os.chown(os.path.join(dirpath, n), uid, uid, follow_symlinks=False)


def read_truncated(path: Path, limit: int) -> tuple[str, bool]:
    """Head and tail of a capture file, ``limit`` bytes in all; (text, truncated)."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            if size <= limit:
                return fh.read().decode("utf-8", "replace"), False
            head = fh.read(limit // 2)
            fh.seek(size - limit // 2)
            tail = fh.read()
    except OSError:
        return "", False
    skipped = size - len(head) - len(tail)
    text = (head.decode("utf-8", "replace") + f"\n[... {skipped} bytes cut ...]\n"
            + tail.decode("utf-8", "replace"))
    return text, True


def install_readonly(workdir: Path, inputs: dict[str, Path]) -> None:
    """Copy grader-owned inputs into the work directory, root-owned and read-only for the run."""
    for name, src in inputs.items():
        if Path(name).is_absolute() or ".." in Path(name).parts:
            raise SandboxError(f"bad input name {name!r}")
        dest = workdir / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dest, symlinks=False, dirs_exist_ok=True)
        else:
            shutil.copy2(src, dest)


def _seal_readonly(workdir: Path, names: list[str]) -> None:
    for name in names:
        p = workdir / name
        paths = [p] + ([q for q in p.rglob("*")] if p.is_dir() else [])
        for q in paths:
            if os.geteuid() == 0:
                os.chown(q, 0, 0, follow_symlinks=False)
            os.chmod(q, 0o755 if q.is_dir() else 0o644)


# ----------------------------------------------------------------------------------------------
# the run
# ----------------------------------------------------------------------------------------------


def _base_env(workdir: Path, marker: str) -> dict[str, str]:
    tmp = str(workdir / ".tmp")
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(workdir),
        "TMPDIR": tmp,
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "HF_HOME": str(workdir / ".cache" / "hf"),
        "XDG_CACHE_HOME": str(workdir / ".cache"),
        "MPLCONFIGDIR": str(workdir / ".cache" / "mpl"),
        "TORCHINDUCTOR_CACHE_DIR": str(workdir / ".cache" / "inductor"),
        "TRITON_CACHE_DIR": str(workdir / ".cache" / "triton"),
        "MALLOC_ARENA_MAX": "2",  # glibc reserves 64 MiB of address space per arena otherwise
        "OMP_NUM_THREADS": "2",
        MARKER_VAR: marker,
    }


_SHARED_DIRS = frozenset({"/", "/tmp", "/var/tmp", "/dev/shm", "/run", "/home", "/root", "/mnt",
                          "/media", "/srv", "/work", "/opt", "/var"})
"""Directories never bound whole into the run's view, even when they are on sys.path."""


def _is_checkout(path: str) -> bool:
    """A source tree the run must not see: a directory holding a .git, or a path inside a
    checkout of this project (an editable install puts the repository root on sys.path, and
    pytest adds its tests/ folder). An installed copy (site-packages/graders, no pyproject.toml
    or .git beside it) is not a checkout; its data folders are hidden instead."""
    if os.path.lexists(os.path.join(path, ".git")):
        return True
    here = os.path.abspath(path)
    while True:
        if os.path.isfile(os.path.join(here, "graders", "sandbox", "_init.py")) and (
                os.path.lexists(os.path.join(here, ".git"))
                or os.path.isfile(os.path.join(here, "pyproject.toml"))):
            return True
        parent = os.path.dirname(here)
        if parent == here:
            return False
        here = parent


_NOT_LIBRARY_ROOTS = ("/usr/", "/lib", "/bin/", "/sbin/", "/tmp/", "/var/tmp/", "/dev/",
                      "/proc/", "/run/", "/sys/", "/etc/")


def _library_dirs() -> list[str]:
    """Directories of the shared libraries this interpreter has loaded (from /proc/self/maps)
    that the system directories do not cover: libpython and its dependencies of a conda env,
    Homebrew or a Nix store path. /nix/store is taken whole when the interpreter lives there
    (its dependencies are other store paths)."""
    found: list[str] = []
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as fh:
            lines = fh.read(1 << 22).splitlines()
    except OSError:
        return found
    for line in lines:
        parts = line.split(None, 5)
        path = parts[5].strip() if len(parts) == 6 else ""
        if not path.startswith("/") or ".so" not in os.path.basename(path):
            continue
        if path.startswith("/nix/store/"):
            path = "/nix/store/x"
        elif path.startswith(_NOT_LIBRARY_ROOTS):
            continue
        d = os.path.dirname(path)
        if d not in found and os.path.isdir(d):
            found.append(d)
    return found


def _editable_targets(site_dir: str) -> list[str]:
    """Paths named by setuptools' editable finders (``__editable___*_finder.py`` MAPPING)."""
    found: list[str] = []
    try:
        names = [n for n in os.listdir(site_dir)
                 if n.startswith("__editable__") and n.endswith("_finder.py")]
    except OSError:
        return found
    for name in names:
        try:
            with open(os.path.join(site_dir, name), encoding="utf-8") as fh:
                text = fh.read(1 << 20)
            m = re.search(r"^MAPPING\s*(?::[^=]*)?=\s*(\{.*?\})\s*$", text, re.M | re.S)
            mapping = ast.literal_eval(m.group(1)) if m else {}
        except (OSError, ValueError, SyntaxError):
            continue
        if isinstance(mapping, dict):
            found += [str(v) for v in mapping.values() if isinstance(v, str)]
    return found


def interpreter_paths() -> list[list[str]]:
    """What the run's interpreter needs, as [real source, path in the run's view] pairs:
    sys.prefix, sys.base_prefix (and exec prefixes), the executable's real directory, every
    existing sys.path entry (site-packages, user site, .pth and editable-install targets) and
    setuptools editable finders' targets; symlinks resolved. A path that is a source checkout
    (a .git, or this project's own sources) is left out: the run never sees the repository."""
    named: list[str] = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
                        os.path.dirname(os.path.realpath(sys.executable))]
    libs = _library_dirs()
    entries = [p for p in sys.path if p and os.path.isabs(p)]
    for p in list(entries):
        if p.endswith(("site-packages", "dist-packages")):
            entries += _editable_targets(p)
    pairs: list[list[str]] = []
    checked = set(entries) | set(libs)  # found, not named by the interpreter: may be a checkout
    for p in named + libs + entries:
        if not os.path.exists(p):
            continue
        real = os.path.realpath(p)
        if real in _SHARED_DIRS or real == os.path.realpath(Path.home()):
            continue  # never the whole of a shared directory (a script's folder on sys.path)
        if p in checked and _is_checkout(real):
            continue
        if os.path.isfile(real):  # a zip on sys.path, an editable single module
            real_dir = real if real.endswith(".zip") else os.path.dirname(real)
            if _is_checkout(real_dir):
                continue
            real = real if real.endswith(".zip") else real_dir
            p = p if p.endswith(".zip") else os.path.dirname(os.path.abspath(p))
        for pair in ([real, real], [real, os.path.abspath(p)]):
            if pair not in pairs:
                pairs.append(pair)
    return sorted(pairs, key=lambda pr: (len(pr[1]), pr[1]))


def package_data_dirs(pairs: list[list[str]]) -> list[str]:
    """This project's data folders inside a bound directory (a non-editable install puts
    tutor/_data/exercises/*/solution and graders/labs/data in site-packages): hidden."""
    found = []
    for _, dst in pairs:
        for rel in ("tutor/_data", "graders/labs/data"):
            if os.path.isdir(os.path.join(dst, rel)):
                found.append(os.path.join(dst, rel))
    return found


def _gpu_devices() -> list[str]:
    """NVIDIA device nodes (names under /dev) a GPU lab needs; none on a CPU machine."""
    try:
        return sorted(n for n in os.listdir("/dev") if n.startswith("nvidia"))
    except OSError:
        return []


def _classify(rc: int | None, stderr: str, cpu_limit: int, wall_s: float,
              timed_out: bool, disk: bool) -> str | None:
    if timed_out:
        return "timeout"
    if disk:
        return "disk"
    if rc is None or rc == 0:
        return None
    if rc in (-signal.SIGXCPU, 128 + signal.SIGXCPU) or (
        rc in (-signal.SIGKILL, 128 + signal.SIGKILL) and wall_s >= cpu_limit * 0.9
    ):
        return "cpu"
    if rc in (-signal.SIGXFSZ, 128 + signal.SIGXFSZ) or "File too large" in stderr:
        return "file-size"
    if "MemoryError" in stderr or "Cannot allocate memory" in stderr or "std::bad_alloc" in stderr:
        return "memory"
    if rc < 0:
        return f"signal {-rc}"
    return None


def run_sandboxed(
    cmd: list[str],
    workdir: Path,
    *,
    limits: Limits,
    env: dict[str, str],
    readonly_inputs: dict[str, Path] | None = None,
    hide: list[Path] | None = None,
) -> SandboxResult:
    """Run ``cmd`` (an argv, never a shell string) in ``workdir`` under ``limits``.

    ``workdir`` must already hold the submission's allowed files; the run may write anywhere in
    it. ``env`` is added to a minimal clean environment (nothing of the grader's leaks in).
    ``readonly_inputs`` (name in workdir -> grader path) are copied in and made root-owned and
    read-only. ``hide`` lists paths (solutions, held-out data, the grader's files) covered
    inside the view when a bound directory holds them. Raises :class:`SandboxError` only when
    the sandbox itself fails (including: the view cannot be built, ``cmd[0]`` cannot be
    executed); everything the submission does ends in a :class:`SandboxResult`.
    """
    workdir = Path(workdir).resolve()
    if not workdir.is_dir():
        raise SandboxError(f"work directory {workdir} does not exist")
    isolation = available_isolation()
    marker = secrets.token_hex(12)
    private = Path(tempfile.mkdtemp(prefix="tutor-sandbox-priv-"))  # 0700, grader only
    try:
        (workdir / ".tmp").mkdir(exist_ok=True)
        if readonly_inputs:
            install_readonly(workdir, readonly_inputs)
        run_env = _base_env(workdir, marker)
        run_env.update(env)
        run_env[MARKER_VAR] = marker
        uid: int | None = None
        notes_pre: list[str] = []
        if isolation == "namespaces+uid":
            uid = _pick_uid()
            _chown_tree(workdir, uid)
            os.chmod(workdir, 0o700)
            # its parents need no change on the host: in the run's view they are 0755
            # directories of a fresh tmpfs (see _init.build_view)
        if readonly_inputs:
            _seal_readonly(workdir, list(readonly_inputs))
        cpu = limits.cpu_s if limits.cpu_s is not None else int(limits.wall_s) + 1
        mib = 1024 * 1024
        rlimits = {
            "cpu": cpu,
            "as": limits.memory_mb * mib,
            "fsize": limits.fsize_mb * mib,
            "nofile": limits.nofile,
            "core": 0,
        }
        if uid is not None:
            rlimits["nproc"] = limits.nproc
        elif os.geteuid() != 0:
            # shared uid: NPROC counts all of this user's tasks, so allow today's count + nproc
            rlimits["nproc"] = _count_tasks(os.geteuid()) + limits.nproc
        else:
            notes_pre.append("running as root without namespaces: no process-count limit")
        stdout_path = private / "stdout"
        stderr_path = private / "stderr"
        status_path = private / "status.json"
        readonly = interpreter_paths()
        to_hide: list[str | Path] = [*(hide or []), *package_data_dirs(readonly)]
        hidden = [str(Path(h).resolve()) for h in to_hide]
        keep = [str(workdir)] + [src for src, _ in readonly]
        hidden = [h for h in hidden  # never hide the run's own directory or the interpreter
                  if not any((k + "/").startswith(h.rstrip("/") + "/") for k in keep)]
        (private / "root").mkdir()
        start = time.monotonic()
        ns: list[str] = []
        if isolation.startswith("namespaces"):
            ns = [shutil.which("unshare") or "unshare"]
            if isolation == "namespaces+userns":
                ns += ["--user", "--map-root-user"]
            ns += _NS_FLAGS
        cfg = {
            "cmd": cmd, "env": run_env, "workdir": str(workdir), "uid": uid,
            "rlimits": rlimits, "stdout": str(stdout_path), "stderr": str(stderr_path),
            "status": str(status_path), "net_ns": bool(ns), "mount_ns": bool(ns),
            "view": {"root": str(private / "root"), "readonly": readonly, "hide": hidden,
                     "devices": _gpu_devices()},
            "marker": f"{MARKER_VAR}={marker}",
        }
        (private / "config.json").write_text(json.dumps(cfg), encoding="utf-8")
        argv = [*ns, sys.executable, "-I", "-S", str(_INIT), str(private / "config.json")]
        with open(private / "init.err", "wb") as init_err_fh:
            proc = subprocess.Popen(argv, cwd="/", env={"PATH": run_env["PATH"]},
                                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=init_err_fh, start_new_session=True, close_fds=True)
        sid = proc.pid
        marker_b = f"{MARKER_VAR}={marker}".encode()
        sampled = 0
        timed_out = disk = False
        rc: int | None = None
        maxrss = 0
        quota = limits.disk_mb * 1024 * 1024
        next_disk = start
        while True:
            try:
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            except ChildProcessError:
                pid, status, usage = proc.pid, 0, None
            if pid == proc.pid:
                rc = os.waitstatus_to_exitcode(status)
                maxrss = usage.ru_maxrss if usage is not None else 0
                proc.returncode = rc
                break
            now = time.monotonic()
            if now - start > limits.wall_s:
                timed_out = True
            elif now >= next_disk:
                next_disk = now + 0.2
                if _tree_size(workdir, quota) > quota:
                    disk = True
                # sampled so that a run killed at a limit still reports its memory
                sampled = max(sampled, _peak_rss_kb(_members(uid, marker_b, sid)))
            if timed_out or disk:
                try:
                    os.killpg(sid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=10)
                rc = proc.returncode
                break
            time.sleep(0.02)
        # whatever survived: the group, the private uid, the marker
        try:
            os.killpg(sid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        leftovers = _kill_all(uid, marker_b, sid)
        maxrss = max(maxrss, sampled)
        notes: list[str] = list(notes_pre)
        if status_path.exists():
            try:
                st_info = json.loads(status_path.read_text(encoding="utf-8"))
                rc = int(st_info["returncode"]) if not (timed_out or disk) else rc
                maxrss = max(maxrss, int(st_info.get("max_rss_kb", 0)))
                notes += [str(n) for n in st_info.get("notes", [])]
                started = st_info["started"] is True
                start_error = str(st_info.get("start_error", ""))
            except (ValueError, KeyError, TypeError) as exc:
                raise SandboxError(f"sandbox status unreadable: {exc}") from None
            if not started:  # the sandbox's own failure, never the submission's exit code
                raise SandboxError(f"cannot start the run: {start_error[-500:]}")
        elif not (timed_out or disk):
            init_err = (private / "init.err").read_text(encoding="utf-8", errors="replace")
            last = (init_err.strip().splitlines() or [""])[-1]
            raise SandboxError(f"sandbox init failed (rc={rc}): {last[-500:]}")
        limit = limits.output_kb * 1024
        stdout, out_trunc = read_truncated(stdout_path, limit)
        stderr, err_trunc = read_truncated(stderr_path, limit)
        wall = time.monotonic() - start
        if leftovers:
            notes.append(f"killed {leftovers} leftover process(es)")
        return SandboxResult(
            returncode=rc, timed_out=timed_out,
            killed_reason=_classify(rc, stderr, cpu, wall, timed_out, disk),
            stdout=stdout, stderr=stderr, wall_s=round(wall, 3), max_rss=maxrss,
            isolation=isolation, notes=notes, leftover_killed=leftovers,
            stdout_truncated=out_trunc, stderr_truncated=err_trunc,
        )
    finally:
        remove_tree(private)
