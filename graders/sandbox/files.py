"""Moving files across the sandbox boundary: allowlisted copy-in, snapshot copy-out.

Both directions treat the tree as hostile: symlinks, devices, fifos and hard-to-name paths are
refused, sizes are capped, and nothing is ever followed out of the tree.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import shutil
import stat
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath


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
    for dirpath, dirnames, filenames in os.walk(src, followlinks=False):
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


def snapshot_tree(src: Path, dest: Path, *, max_total_mb: int = 256,
                  max_files: int = 2000) -> dict[str, str]:
    """Copy regular files of ``src`` into ``dest`` (grader-owned); return {relpath: sha256}.

    Call it only once every process of the run is dead. Symlinks and special files are skipped
    (a submission cannot make the grader read outside its tree).
    """
    hashes: dict[str, str] = {}
    budget = max_total_mb * 1024 * 1024
    for dirpath, dirnames, filenames in os.walk(src, followlinks=False):
        here = Path(dirpath)
        dirnames[:] = [d for d in dirnames if not (here / d).is_symlink()]
        for name in sorted(filenames):
            path = here / name
            rel = path.relative_to(src).as_posix()
            if not _safe_rel(rel) or len(hashes) >= max_files:
                continue
            try:
                fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
            except OSError:
                continue
            with os.fdopen(fd, "rb") as fin:
                if not stat.S_ISREG(os.fstat(fin.fileno()).st_mode):
                    continue
                size = os.fstat(fin.fileno()).st_size
                if size > budget:
                    continue
                budget -= size
                target = dest / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                h = hashlib.sha256()
                with open(target, "wb") as fout:
                    while chunk := fin.read(1 << 20):
                        h.update(chunk)
                        fout.write(chunk)
                hashes[rel] = h.hexdigest()
    return hashes


def hash_tree(root: Path) -> dict[str, str]:
    """{relpath: sha256} of the regular files under ``root`` (no symlinks followed)."""
    out: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        here = Path(dirpath)
        dirnames[:] = [d for d in dirnames if not (here / d).is_symlink()]
        for name in filenames:
            path = here / name
            if path.is_symlink() or not path.is_file():
                continue
            h = hashlib.sha256(path.read_bytes())
            out[path.relative_to(root).as_posix()] = h.hexdigest()
    return out
