"""Sandbox init: pid 1 of the sandbox's namespaces (trusted code, stdlib only).

Run by the grader as ``python -I -S _init.py CONFIG`` inside
``unshare --pid --fork --kill-child --net --mount --mount-proc``. As root inside the new
namespaces it brings loopback up (torch.distributed needs it), hides the paths the submission
must not read (tmpfs / /dev/null over them), keeps the interpreter reachable, then forks the
submission's process: rlimits, no supplementary groups, an unprivileged uid/gid, no_new_privs,
exec. As pid 1 it reaps every orphan; when the submission's main process ends it SIGKILLs every
other process of the namespace (``kill(-1)`` from pid 1 reaches all of them) and writes a status
file the submission cannot touch. If this process dies, the kernel kills the whole namespace.

No third-party import, no import of the grader's package: this file must stay runnable with
``-S`` (no site-packages).
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from typing import Any

PR_SET_NO_NEW_PRIVS = 38
PR_SET_PDEATHSIG = 1

_RLIMITS = {
    "cpu": resource.RLIMIT_CPU,
    "as": resource.RLIMIT_AS,
    "fsize": resource.RLIMIT_FSIZE,
    "nofile": resource.RLIMIT_NOFILE,
    "nproc": resource.RLIMIT_NPROC,
    "core": resource.RLIMIT_CORE,
}


def _run(cmd: list[str]) -> bool:
    try:
        return subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              timeout=10).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def _traversable_by_others(path: str) -> bool:
    try:
        return bool(os.stat(path).st_mode & 0o001)
    except OSError:
        return False


def _keep_reachable(target: str, notes: list[str]) -> None:
    """Make ``target`` (the interpreter's prefix) reachable for an unprivileged uid.

    A prefix under a 0700 directory (pyenv in /root) is bind-mounted aside, a 0755 tmpfs is laid
    over the closed directory (which also hides the rest of it, e.g. root's home), and the prefix
    is bound back at its old path.
    """
    parts = os.path.abspath(target).split(os.sep)
    closed = None
    for i in range(2, len(parts)):
        d = os.sep.join(parts[:i])
        if not _traversable_by_others(d):
            closed = d
            break
    if closed is None:
        return
    aside = "/run/.tutor-sandbox-keep" if os.path.isdir("/run") else "/mnt"
    os.makedirs(aside, exist_ok=True)
    ok = _run(["mount", "--bind", target, aside])
    ok = ok and _run(["mount", "-t", "tmpfs", "-o", "mode=0755,size=1m", "tmpfs", closed])
    if ok:
        dest = target
        os.makedirs(dest, exist_ok=True)
        ok = _run(["mount", "--move", aside, dest]) or _run(["mount", "--bind", aside, dest])
    notes.append(f"interpreter reachable via tmpfs over {closed}: {'ok' if ok else 'FAILED'}")


def _hide(paths: list[str], notes: list[str]) -> None:
    for p in paths:
        if not os.path.lexists(p):
            continue
        if os.path.isdir(p) and not os.path.islink(p):
            ok = _run(["mount", "-t", "tmpfs", "-o", "ro,mode=0755,size=4k", "tmpfs", p])
        else:
            ok = _run(["mount", "--bind", "/dev/null", p])
        notes.append(f"hidden {p}: {'ok' if ok else 'FAILED'}")


PR_SET_CHILD_SUBREAPER = 36


def _descendants(root: int) -> list[int]:
    """Every descendant of ``root`` (through /proc/<pid>/task/<tid>/children)."""
    found: list[int] = []
    stack = [root]
    while stack:
        pid = stack.pop()
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                with open(f"/proc/{pid}/task/{tid}/children", encoding="ascii") as fh:
                    kids = [int(x) for x in fh.read().split()]
            except (OSError, ValueError):
                continue
            for kid in kids:
                if kid not in found:
                    found.append(kid)
                    stack.append(kid)
    return found


def _kill_descendants() -> bool:
    """As a child subreaper: SIGKILL and reap every descendant (orphans come back to us)."""
    killed = False
    for _ in range(200):
        kids = _descendants(os.getpid())
        if not kids:
            break
        for kid in kids:
            try:
                os.kill(kid, signal.SIGKILL)
                killed = True
            except OSError:
                pass
        while True:
            try:
                got, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if got == 0:
                break
        time.sleep(0.002)
    return killed


def _kill_marked(marker: str) -> bool:
    """SIGKILL every process (other than this one) whose environment holds ``marker``."""
    if not marker:
        return False
    needle = marker.encode()
    me = os.getpid()
    killed = False
    for _ in range(50):
        found = False
        for name in os.listdir("/proc"):
            if not name.isdigit() or int(name) == me:
                continue
            try:
                with open(f"/proc/{name}/environ", "rb") as fh:
                    if needle not in fh.read().split(b"\0"):
                        continue
                os.kill(int(name), signal.SIGKILL)
                found = killed = True
            except OSError:
                continue
        if not found:
            break
        time.sleep(0.01)
    return killed


MS_BIND = 4096
MS_REC = 16384


def _bind_fd(fd: int, target: str) -> bool:
    """Bind-mount the directory open as ``fd`` onto ``target`` (mount(2) resolves
    /proc/self/fd/N to the directory itself, even when its old path is covered)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        rc = libc.mount(f"/proc/self/fd/{fd}".encode(), target.encode(), None,
                        MS_BIND | MS_REC, None)
        return bool(rc == 0)
    except OSError:
        return False


def _under(path: str, root: str) -> bool:
    return (os.path.abspath(path) + "/").startswith(os.path.abspath(root).rstrip("/") + "/")


def _private_dirs(dirs: list[str], workdir: str, prefix: str, notes: list[str]) -> None:
    """Lay an empty tmpfs over shared directories (/tmp, /dev/shm, /home ...), so the run sees
    neither other runs' files nor other users'; its own work directory is bound back in."""
    for d in dirs:
        if not os.path.isdir(d) or os.path.islink(d) or _under(prefix, d):
            continue
        mode = "1777" if d in ("/tmp", "/var/tmp", "/dev/shm") else "0755"
        keep = _under(workdir, d)
        fd = os.open(workdir, os.O_RDONLY | os.O_DIRECTORY) if keep else -1
        try:
            # small: tmpfs pages are RAM and RLIMIT_AS does not count them (TMPDIR is the
            # run directory; /dev/shm gets more for torch's shared-memory tensors)
            size = "64m" if d == "/dev/shm" else "16m"
            ok = _run(["mount", "-t", "tmpfs", "-o", f"mode={mode},size={size},nosuid,nodev",
                       "tmpfs", d])
            if ok and keep:
                os.makedirs(workdir, exist_ok=True)
                ok = _bind_fd(fd, workdir)
        finally:
            if fd >= 0:
                os.close(fd)
        notes.append(f"private {d}: {'ok' if ok else 'FAILED'}")
        if keep and not ok:
            raise SystemExit(f"sandbox: cannot bind the work directory back under {d}")


def _child(cfg: dict[str, Any], out_fd: int, err_fd: int) -> None:
    """In the forked child: limits, identity, exec (never returns)."""
    try:
        os.dup2(out_fd, 1)
        os.dup2(err_fd, 2)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        for name, value in cfg["rlimits"].items():
            # CPU: SIGXCPU at the soft limit, SIGKILL one second later
            hard = value + 1 if name == "cpu" else value
            resource.setrlimit(_RLIMITS[name], (value, hard))
        uid = cfg.get("uid")
        if uid is not None:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
        except OSError:
            pass
        os.umask(0o077)
        os.chdir(cfg["workdir"])
        os.closerange(3, 65536)
        os.execve(cfg["cmd"][0], cfg["cmd"], cfg["env"])
    except BaseException as exc:  # noqa: BLE001 - report anything, then die
        try:
            os.write(2, f"sandbox: cannot start the submission: {exc}\n".encode())
        finally:
            os._exit(127)


def main() -> int:
    with open(sys.argv[1], encoding="utf-8") as fh:
        cfg = json.load(fh)
    notes: list[str] = []
    if cfg.get("net_ns"):
        ip = shutil.which("ip") or "/usr/sbin/ip"
        notes.append("loopback up" if _run([ip, "link", "set", "lo", "up"]) else "loopback DOWN")
    # opened before any mount: the grader's private directory may be covered below
    out_fd = os.open(cfg["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    err_fd = os.open(cfg["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    status_dir = os.open(os.path.dirname(cfg["status"]), os.O_RDONLY | os.O_DIRECTORY)
    if cfg.get("mount_ns"):
        if cfg.get("uid") is not None:
            _keep_reachable(cfg["interpreter_prefix"], notes)
        _hide(cfg.get("hide", []), notes)
        _private_dirs(cfg.get("private_dirs", []), cfg["workdir"], cfg["interpreter_prefix"],
                      notes)
    if os.getpid() != 1:  # orphans (double-forked daemons) are re-parented to us, not init
        try:
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
        except OSError:
            pass
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:
        _child(cfg, out_fd, err_fd)
    os.close(out_fd)
    os.close(err_fd)
    status = 0
    while True:  # pid 1: reap everything until the main process ends
        try:
            got, st = os.waitpid(-1, 0)
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        if got == pid:
            status = st
            break
    leftover = False
    if os.getpid() != 1:  # no pid namespace: kill our descendants, then anything marked
        leftover = _kill_descendants()
        leftover = _kill_marked(cfg.get("marker", "")) or leftover
    if os.getpid() == 1:  # only as pid 1 of a private namespace: kill(-1) hits just the run
        try:
            os.kill(-1, signal.SIGKILL)
            leftover = True
        except ProcessLookupError:
            pass
        while True:
            try:
                os.waitpid(-1, 0)
            except ChildProcessError:
                break
            except InterruptedError:
                continue
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = {
        "returncode": os.waitstatus_to_exitcode(status),
        "wall_s": time.monotonic() - start,
        "max_rss_kb": usage.ru_maxrss,
        "killed_leftovers": leftover,
        "notes": notes,
    }
    name = os.path.basename(cfg["status"])
    fd = os.open(name + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600, dir_fd=status_dir)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(result, fh)
    os.replace(name + ".tmp", name, src_dir_fd=status_dir, dst_dir_fd=status_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
