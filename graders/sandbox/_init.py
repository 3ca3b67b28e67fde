"""Sandbox init: pid 1 of the sandbox's namespaces (trusted code, stdlib only).

Run by the grader as ``python -I -S _init.py CONFIG`` inside
``unshare --pid --fork --kill-child --net --mount --mount-proc --ipc``. As root inside the new
namespaces it brings loopback up (torch.distributed needs it), builds the run's allow-list view
of the filesystem and pivots into it (:func:`build_view`; any failure: exit before the
submission starts), then forks the submission's process: rlimits, no supplementary groups, an
unprivileged uid/gid (or an ordinary uid of a nested user namespace), no_new_privs, exec; a
close-on-exec pipe tells a failed exec from the submission's own exit code. As pid 1 it reaps every orphan; when the submission's main process ends it SIGKILLs every
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


# ----------------------------------------------------------------------------------------------
# the run's view of the filesystem: an allow-list, built on an empty tmpfs, then pivot_root
# ----------------------------------------------------------------------------------------------

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_NOATIME = 1024
MS_NODIRATIME = 2048
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
MS_RELATIME = 1 << 21
MNT_DETACH = 2
_ST_TO_MS = {1: MS_RDONLY, 2: MS_NOSUID, 4: MS_NODEV, 8: MS_NOEXEC, 1024: MS_NOATIME,
             2048: MS_NODIRATIME, 4096: MS_RELATIME}
"""statvfs f_flag bits -> mount flags: a read-only remount inside a user namespace must keep
the flags the source mount is locked with (nosuid, nodev, ...), or the kernel refuses it."""
_SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "ppc64le": 203, "s390x": 217}
DEVICES = ("null", "zero", "full", "random", "urandom", "tty")
"""Device nodes the run sees (bound from the host's /dev)."""
ETC = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "nsswitch.conf", "passwd", "group", "hosts",
       "host.conf", "localtime", "alternatives", "mime.types", "os-release", "ssl/certs")
"""What the run sees of /etc: the dynamic loader's cache, name lookups, time zone."""


class ViewError(Exception):
    """The run's filesystem view could not be built (the run must not start)."""


_LIBC: Any = None


def _libc() -> Any:
    global _LIBC
    if _LIBC is None:
        _LIBC = ctypes.CDLL(None, use_errno=True)
    return _LIBC


def _mount(src: str | None, dst: str, fstype: str | None, flags: int,
           data: str | None = None) -> None:
    rc = _libc().mount(src.encode() if src else None, dst.encode(),
                       fstype.encode() if fstype else None, ctypes.c_ulong(flags),
                       data.encode() if data else None)
    if rc != 0:
        err = ctypes.get_errno()
        raise ViewError(f"mount {src or fstype} on {dst}: {os.strerror(err)}")


def _bind(src: str, dst: str, *, readonly: bool) -> None:
    """Bind ``src`` onto ``dst`` (created: a directory or an empty file), read-only if asked."""
    if os.path.isdir(src):
        os.makedirs(dst, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if not os.path.lexists(dst):
            os.close(os.open(dst, os.O_WRONLY | os.O_CREAT, 0o644))
    _mount(src, dst, None, MS_BIND | MS_REC)
    if readonly:
        locked = 0
        f_flag = os.statvfs(dst).f_flag
        for st_bit, ms_bit in _ST_TO_MS.items():
            if f_flag & st_bit:
                locked |= ms_bit
        _mount(None, dst, None, MS_REMOUNT | MS_BIND | MS_RDONLY | locked)


def _tmpfs(dst: str, mode: str, size: str) -> None:
    os.makedirs(dst, exist_ok=True)
    _mount("tmpfs", dst, "tmpfs", MS_NOSUID | MS_NODEV, f"mode={mode},size={size}")


def _copy_link(src: str, dst: str) -> None:
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    if not os.path.lexists(dst):
        os.symlink(os.readlink(src), dst)


def _under(path: str, root: str) -> bool:
    return (os.path.abspath(path) + "/").startswith(os.path.abspath(root).rstrip("/") + "/")


def build_view(view: dict[str, Any], workdir: str, notes: list[str]) -> None:
    """Make the run's root an allow-list: an empty tmpfs that receives, read-only, the system
    directories and the interpreter's paths, plus the run directory read-write; private /tmp,
    /var/tmp, /dev/shm, /run and /run/lock; a minimal /dev; /proc of the run's pid namespace.
    Then pivot_root into it and detach the old root, so nothing else (HOME, the repository, the
    batch's other submissions, /work) can be named at all. Raises :class:`ViewError`."""
    root = view["root"]
    _mount(None, "/", None, MS_REC | MS_PRIVATE)  # nothing we mount leaks back to the host
    _tmpfs(root, "0755", "8m")
    # private scratch space first: the run directory may live under /tmp and is bound below
    for d, mode, size in (("/tmp", "1777", "16m"), ("/var/tmp", "1777", "4m"),
                          ("/run", "0755", "1m"), ("/run/lock", "1777", "1m")):
        _tmpfs(root + d, mode, size)
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32", "usr"):
        src = "/" + name
        if os.path.islink(src):
            _copy_link(src, root + src)
        elif os.path.isdir(src):
            _bind(src, root + src, readonly=True)
    for name in ETC:
        src = "/etc/" + name
        if os.path.islink(src):
            _copy_link(src, root + src)
        elif os.path.exists(src):
            _bind(src, root + src, readonly=True)
    # the interpreter: prefixes, site-packages, .pth and editable-install targets (resolved by
    # the grader); bound at their real path and at the path the grader named, so symlinked
    # prefixes and 0700 parents (pyenv under /root, a venv under HOME) work: every parent
    # created here is a 0755 directory of this tmpfs, and nothing on the host is chmod-ed
    for src, dst in view.get("readonly", []):
        if not os.path.exists(src):
            continue
        if os.path.lexists(root + dst) and os.path.realpath(root + dst) != root + dst:
            continue  # a symlink of the view already leads there
        if any(_under(dst, d) and os.path.realpath(dst) == src and d != dst
               for _, d in view.get("readonly", [])):
            continue  # already inside a bound directory
        _bind(src, root + dst, readonly=True)
    # /dev: a few nodes, a private /dev/shm, the usual links; GPUs when the grader has them
    _tmpfs(root + "/dev", "0755", "64k")
    for name in list(DEVICES) + list(view.get("devices", [])):
        if os.path.exists("/dev/" + name):
            _bind("/dev/" + name, root + "/dev/" + name, readonly=False)
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                         ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):
        os.symlink(target, root + "/dev/" + name)
    _tmpfs(root + "/dev/shm", "1777", "64m")  # torch's shared-memory tensors
    # /proc of the run's own pid namespace (unshare --mount-proc mounted it; a fresh mount is
    # refused inside a user namespace when the host's /proc is partly masked, so bind it)
    os.makedirs(root + "/proc", exist_ok=True)
    try:
        _mount("proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    except ViewError:
        _mount("/proc", root + "/proc", None, MS_BIND | MS_REC)
    cpu = "/sys/devices/system/cpu"  # CPU counts for torch/OpenMP; nothing else of /sys
    if os.path.isdir(cpu):
        _bind(cpu, root + cpu, readonly=True)
    # the run directory, read-write (its inputs are root-owned, 0644)
    _bind(workdir, root + workdir, readonly=False)
    # paths inside a bound directory that the run must still not read
    for p in view.get("hide", []):
        target = root + p
        if not os.path.lexists(target) or os.path.islink(target):
            continue
        if os.path.isdir(target):
            _mount("tmpfs", target, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV,
                   "mode=0755,size=4k")
        else:
            _mount(root + "/dev/null", target, None, MS_BIND)
        notes.append(f"hidden {p}")
    _pivot(root)
    notes.append("filesystem view: allow-list")


def _pivot(root: str) -> None:
    """pivot_root into ``root`` and detach the old root (the runc way: pivot_root(".", "."))."""
    nr = _SYS_PIVOT_ROOT.get(os.uname().machine)
    if nr is None:
        raise ViewError(f"pivot_root: unknown syscall number on {os.uname().machine}")
    os.chdir(root)
    libc = _libc()
    if libc.syscall(ctypes.c_long(nr), b".", b".") != 0:
        raise ViewError(f"pivot_root: {os.strerror(ctypes.get_errno())}")
    if libc.umount2(b".", MNT_DETACH) != 0:
        raise ViewError(f"detach the old root: {os.strerror(ctypes.get_errno())}")
    os.chdir("/")


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


def _child(cfg: dict[str, Any], out_fd: int, err_fd: int, started_fd: int) -> None:
    """In the forked child: limits, identity, exec (never returns). ``started_fd`` is the
    close-on-exec end of a pipe: a successful exec closes it with nothing written, a failure
    writes its cause there, so the grader never mistakes "could not start" for the
    submission's own exit code 126/127."""
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
        elif cfg.get("mount_ns"):
            _unprivileged_in_nested_userns()
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
        except OSError:
            pass
        os.umask(0o077)
        os.chdir(cfg["workdir"])
        os.closerange(3, started_fd)
        os.closerange(started_fd + 1, 65536)
        os.execve(cfg["cmd"][0], cfg["cmd"], cfg["env"])
    except BaseException as exc:  # noqa: BLE001 - report anything, then die
        try:
            os.write(started_fd, f"{type(exc).__name__}: {exc}"[:1000].encode("utf-8", "replace"))
        finally:
            os._exit(127)


CLONE_NEWUSER = 0x10000000
NESTED_ID = 1000
"""The run's uid/gid inside its nested user namespace (namespaces+userns mode)."""


def _unprivileged_in_nested_userns() -> None:
    """Without a private uid (namespaces+userns), the child is root of the user namespace that
    owns the view's mounts: it could remount them read-write (the grader's own venv) or undo
    them. So it enters one more user namespace where it is an ordinary uid; the mounts belong
    to the parent namespace, and exec as a non-root uid clears every capability."""
    libc = _libc()
    if libc.unshare(CLONE_NEWUSER) != 0:
        raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWUSER) for the run")
    for name, text in (("setgroups", "deny"), ("uid_map", f"{NESTED_ID} 0 1"),
                       ("gid_map", f"{NESTED_ID} 0 1")):
        with open(f"/proc/self/{name}", "w", encoding="ascii") as fh:
            fh.write(text)
    os.setgid(NESTED_ID)
    os.setuid(NESTED_ID)


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
        try:
            build_view(cfg["view"], cfg["workdir"], notes)
        except (ViewError, OSError) as exc:  # fail closed: no view, no run
            sys.stderr.write(f"sandbox: cannot build the run's filesystem view: {exc}\n")
            return 3
    if os.getpid() != 1:  # orphans (double-forked daemons) are re-parented to us, not init
        try:
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
        except OSError:
            pass
    start = time.monotonic()
    started_r, started_w = os.pipe()  # both close-on-exec (PEP 446)
    pid = os.fork()
    if pid == 0:
        os.close(started_r)
        _child(cfg, out_fd, err_fd, started_w)
    os.close(out_fd)
    os.close(err_fd)
    os.close(started_w)
    start_error = b""
    while chunk := os.read(started_r, 4096):  # EOF at exec (or at the child's death)
        start_error += chunk
    os.close(started_r)
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
        "started": not start_error,
        "start_error": start_error.decode("utf-8", "replace"),
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
