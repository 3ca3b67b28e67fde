"""Moving files across the sandbox boundary: allowlisted copy-in, snapshot copy-out.

Both directions treat the tree as hostile: symlinks, devices, fifos and hard-to-name paths are
refused, sizes are capped, and nothing is ever followed out of the tree.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import secrets
import shutil
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any


class CopyRefused(Exception):
    """A file could not be copied for a reason the submission is responsible for."""


@dataclass
class CopyReport:
    """What an allowlisted copy did."""

    copied: list[str] = field(default_factory=list)
    """Relative paths copied."""
    refused: list[str] = field(default_factory=list)
    """Human-readable reasons for files left out (symlinks, not allowed, too big)."""


def _safe_rel(rel: str) -> bool:
    p = PurePosixPath(rel)
    return not p.is_absolute() and ".." not in p.parts and all(
        part and part.isprintable() for part in p.parts
    )


def copy_allowlisted(src: Path, dest: Path, patterns: list[str], *,
                     max_file_mb: int = 32, max_files: int = 200) -> CopyReport:
    """Copy files of ``src`` matching the allowlist ``patterns`` (glob, relative) into ``dest``.

    Symlinks anywhere (the file or a directory on its way) are refused, as are non-regular files,
    files above ``max_file_mb`` and more than ``max_files`` files.
    """
    report = CopyReport()
    src = Path(src)
    if src.is_symlink() or not src.is_dir():
        raise CopyRefused(f"{src} is not a directory")
    for dirpath, dirnames, filenames in walk(src):
        here = Path(dirpath)
        for d in list(dirnames):
            if (here / d).is_symlink():
                report.refused.append(f"{(here / d).relative_to(src)}: symlink refused")
                dirnames.remove(d)
        for name in sorted(filenames):
            path = here / name
            rel = path.relative_to(src).as_posix()
            if not any(fnmatch.fnmatchcase(rel, pat) for pat in patterns):
                continue
            if not _safe_rel(rel):
                report.refused.append(f"{rel!r}: unsafe name")
                continue
            st = os.lstat(path)
            if stat.S_ISLNK(st.st_mode):
                report.refused.append(f"{rel}: symlink refused")
                continue
            if not stat.S_ISREG(st.st_mode):
                report.refused.append(f"{rel}: not a regular file")
                continue
            if st.st_size > max_file_mb * 1024 * 1024:
                report.refused.append(f"{rel}: larger than {max_file_mb} MiB")
                continue
            if len(report.copied) >= max_files:
                report.refused.append(f"{rel}: more than {max_files} files")
                continue
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
            with os.fdopen(fd, "rb") as fin, open(target, "wb") as fout:
                shutil.copyfileobj(fin, fout)
            report.copied.append(rel)
    return report


MAX_DEPTH = 32
"""Deepest directory level the grader walks into in a submission's tree (deeper: ignored)."""


def walk(top: Path, *, max_depth: int = MAX_DEPTH,
         max_entries: int = 100_000) -> Iterator[tuple[str, list[str], list[str]]]:
    """``os.walk(top, followlinks=False)`` without recursion (Python 3.11's os.walk recurses,
    so a 1,500-deep chain raised RecursionError), to ``max_depth`` levels and ``max_entries``
    names in all. The caller may prune ``dirnames`` in place, as with os.walk."""
    stack: list[tuple[str, int]] = [(os.fspath(top), 0)]
    seen = 0
    while stack:
        here, depth = stack.pop()
        dirnames: list[str] = []
        filenames: list[str] = []
        try:
            with os.scandir(here) as it:
                for e in it:
                    seen += 1
                    if seen > max_entries:
                        break
                    try:
                        is_dir = e.is_dir(follow_symlinks=False)
                    except OSError:
                        continue
                    (dirnames if is_dir else filenames).append(e.name)
        except OSError:
            continue
        dirnames.sort()
        yield here, dirnames, filenames
        if depth + 1 < max_depth:
            stack += [(os.path.join(here, d), depth + 1) for d in reversed(dirnames)]
        if seen > max_entries:
            return


def walk_files(root: Path, *, max_depth: int = MAX_DEPTH) -> Iterator[tuple[str, Path]]:
    """(relpath, path) of every non-directory under ``root`` with a printable UTF-8 name
    (see :func:`walk`). ``snapshot_tree`` and ``hash_tree`` both take their files from it, so
    they agree on which names count."""
    base = os.fspath(root)
    for here, _dirnames, filenames in walk(Path(root), max_depth=max_depth):
        for name in filenames:
            path = os.path.join(here, name)
            rel = os.path.relpath(path, base).replace(os.sep, "/")
            if _safe_rel(rel):
                yield rel, Path(path)


def _taken(root: Path, max_total_mb: int, max_files: int) -> Iterator[tuple[str, int, Any]]:
    """The regular files both tree functions take, opened without following links:
    (relpath, size, binary file); at most ``max_files`` files and ``max_total_mb`` MiB in all
    (by size, so 1,000 sparse 64 MiB files cost one budget, not 64 GiB of reads)."""
    budget = max_total_mb * 1024 * 1024
    count = 0
    for rel, path in sorted(walk_files(root)):
        if count >= max_files:
            return
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            continue
        with os.fdopen(fd, "rb") as fin:
            st = os.fstat(fin.fileno())
            if not stat.S_ISREG(st.st_mode) or st.st_size > budget:
                continue
            budget -= st.st_size
            count += 1
            yield rel, st.st_size, fin


def _copy_hash(fin: Any, size: int, fout: Any | None) -> str:
    h = hashlib.sha256()
    left = size  # never more than the size counted against the budget
    while left > 0 and (chunk := fin.read(min(1 << 20, left))):
        left -= len(chunk)
        h.update(chunk)
        if fout is not None:
            fout.write(chunk)
    return h.hexdigest()


def snapshot_tree(src: Path, dest: Path, *, max_total_mb: int = 256,
                  max_files: int = 2000) -> dict[str, str]:
    """Copy regular files of ``src`` into ``dest`` (grader-owned); return {relpath: sha256}.

    Call it only once every process of the run is dead. Symlinks and special files are skipped
    (a submission cannot make the grader read outside its tree); the walk, the caps and the
    names taken are those of :func:`hash_tree`.
    """
    hashes: dict[str, str] = {}
    for rel, size, fin in _taken(Path(src), max_total_mb, max_files):
        target = dest / rel
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "wb") as fout:
                hashes[rel] = _copy_hash(fin, size, fout)
        except OSError:
            continue
    return hashes


def hash_tree(root: Path, *, max_total_mb: int = 256, max_files: int = 2000) -> dict[str, str]:
    """{relpath: sha256} of the files :func:`snapshot_tree` would take (same caps)."""
    return {rel: _copy_hash(fin, size, None)
            for rel, size, fin in _taken(Path(root), max_total_mb, max_files)}


def remove_tree(root: Path) -> None:
    """Delete ``root`` whatever the submission built in it: iteratively (no recursion limit),
    with two descriptors at a time whatever the depth (each subdirectory is first renamed up
    to the top level, so no path ever grows past PATH_MAX), write permission restored where
    the run removed it. Never follows a symlink out of the tree; errors are skipped, and a
    last ``rmtree`` sweeps whatever is left."""
    root = Path(root)
    try:
        top = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        return
    try:
        queue = [n for n in _names(top)]
        serial = 0
        tag = secrets.token_hex(6)
        while queue:
            name = queue.pop()
            try:
                st = os.stat(name, dir_fd=top, follow_symlinks=False)
            except OSError:
                continue
            if not stat.S_ISDIR(st.st_mode):
                _unlink(name, top)
                continue
            try:
                os.chmod(name, 0o700, dir_fd=top, follow_symlinks=False)
            except (OSError, NotImplementedError):
                pass
            try:
                fd = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=top)
            except OSError:
                continue
            try:
                for child in _names(fd):
                    try:
                        cst = os.stat(child, dir_fd=fd, follow_symlinks=False)
                    except OSError:
                        continue
                    if stat.S_ISDIR(cst.st_mode):
                        serial += 1
                        flat = f".rm-{tag}-{serial}"
                        try:
                            os.rename(child, flat, src_dir_fd=fd, dst_dir_fd=top)
                            queue.append(flat)
                        except OSError:
                            continue
                    else:
                        _unlink(child, fd)
            finally:
                os.close(fd)
            try:
                os.rmdir(name, dir_fd=top)
            except OSError:
                pass
    finally:
        os.close(top)
    try:
        shutil.rmtree(root, ignore_errors=True)
    except RecursionError:  # something could not be flattened; never let it reach the caller
        pass


def _names(fd: int) -> list[str]:
    try:
        return os.listdir(fd)
    except OSError:
        return []


def _unlink(name: str, dir_fd: int) -> None:
    try:
        os.unlink(name, dir_fd=dir_fd)
    except OSError:
        pass
