"""Safe readers for what a submission wrote: JSON and safetensors only, bounded, no links.

Everything here treats the file as hostile: the path may be a link or leave OUTDIR, the size may be
huge, JSON may nest 10 000 levels deep (Python's parser recurses) or hold a million items, and a
safetensors header may lie about offsets, declare a million empty tensors or odd dtypes. Each of
these ends as an :class:`ArtifactError` (the submission's failure), never as a grader crash.
"""

from __future__ import annotations

import json
import os
import stat
import struct
from pathlib import Path, PurePosixPath
from typing import Any

MAX_JSON_DEPTH = 32
"""Deepest nesting accepted in a JSON artifact (metrics are 2-3 levels deep)."""
MAX_JSON_ITEMS = 200_000
"""Most values (numbers, strings, containers) in one JSON artifact."""
MAX_HEADER_BYTES = 4 * 1024 * 1024
"""Largest safetensors header (a 4096-tensor file has a header of a few hundred KiB)."""

_DTYPE_BYTES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1,
                "U8": 1, "BOOL": 1}
"""safetensors dtypes a lab may write, with their sizes (others are refused)."""


class ArtifactError(Exception):
    """An artifact is missing or malformed (the submission's failure), in both languages."""

    def __init__(self, en: str, zh: str) -> None:
        super().__init__(en)
        self.en, self.zh = en, zh


def safe_file(base: Path, rel: str) -> Path:
    """``base/rel`` when it is a regular file reached without any link; ArtifactError otherwise."""
    parts = PurePosixPath(rel).parts
    if not parts or PurePosixPath(rel).is_absolute() or any(p in ("..", ".", "") for p in parts):
        raise ArtifactError(f"{rel}: not a relative path", f"{rel}：不是相對路徑")
    path = Path(base)
    for i, part in enumerate(parts):
        path = path / part
        try:
            st = os.lstat(path)
        except OSError:
            raise ArtifactError(f"{rel}: missing", f"{rel}：缺少") from None
        if stat.S_ISLNK(st.st_mode):
            raise ArtifactError(f"{rel}: links are not accepted", f"{rel}：不接受連結")
        last = i == len(parts) - 1
        if last and not stat.S_ISREG(st.st_mode):
            raise ArtifactError(f"{rel}: not a regular file", f"{rel}：不是一般檔案")
        if not last and not stat.S_ISDIR(st.st_mode):
            raise ArtifactError(f"{rel}: missing", f"{rel}：缺少")
    return path


def _read_bytes(path: Path, rel: str, max_bytes: int) -> bytes:
    # O_NOFOLLOW: the last component cannot have turned into a link since safe_file looked
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    try:
        size = os.fstat(fd).st_size
        if size > max_bytes:
            raise ArtifactError(f"{rel}: larger than {max_bytes} bytes",
                                f"{rel}：超過 {max_bytes} 位元組")
        with os.fdopen(fd, "rb", closefd=False) as fh:
            return fh.read(max_bytes + 1)
    finally:
        os.close(fd)


def json_shape_ok(text: str, max_depth: int = MAX_JSON_DEPTH,
                  max_items: int = MAX_JSON_ITEMS) -> str | None:
    """Why ``text`` nests too deep or holds too many values (None: fine). Iterative, no parse."""
    depth = items = 0
    in_str = esc = False
    for ch in text:
        if in_str:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
            continue
        if ch == '"':
            in_str = True
            items += 1
        elif ch in "[{":
            depth += 1
            items += 1
            if depth > max_depth:
                return f"nested deeper than {max_depth} levels"
        elif ch in "]}":
            depth -= 1
        elif ch == ",":
            items += 1
        if items > max_items:
            return f"more than {max_items} values"
    return None


def read_json(base: Path, rel: str, max_bytes: int = 1_000_000) -> Any:
    """The JSON artifact ``rel`` under ``base``. NaN/Infinity are read as floats (the checks'
    ``number`` refuses them with a clear message)."""
    raw = _read_bytes(safe_file(base, rel), rel, max_bytes)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ArtifactError(f"{rel}: not UTF-8", f"{rel}：不是 UTF-8") from None
    why = json_shape_ok(text)
    if why:
        raise ArtifactError(f"{rel}: {why}", f"{rel}：巢狀太深或項目太多（{why}）")
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ArtifactError(f"{rel}: not valid JSON ({str(exc)[:120]})",
                            f"{rel}：不是有效的 JSON（{str(exc)[:120]}）") from None


def _header(raw: bytes, rel: str, max_tensors: int) -> dict[str, Any]:
    """The validated safetensors header: every entry's dtype, shape and offsets consistent."""
    bad = ArtifactError(f"{rel}: not a valid safetensors file", f"{rel}：不是有效的 safetensors 檔")
    if len(raw) < 8:
        raise bad
    (n,) = struct.unpack("<Q", raw[:8])
    if n > MAX_HEADER_BYTES:
        raise ArtifactError(f"{rel}: header larger than {MAX_HEADER_BYTES} bytes (too many tensors)",
                            f"{rel}：標頭超過 {MAX_HEADER_BYTES} 位元組（張量太多）")
    if 8 + n > len(raw):
        raise bad
    text = raw[8 : 8 + n].decode("utf-8", "replace")
    if json_shape_ok(text, max_depth=4, max_items=max_tensors * 16 + 64):
        raise ArtifactError(f"{rel}: more than {max_tensors} tensors",
                            f"{rel}：超過 {max_tensors} 個張量")
    try:
        header = json.loads(text)
    except ValueError:
        raise bad from None
    if not isinstance(header, dict):
        raise bad
    header.pop("__metadata__", None)
    if len(header) > max_tensors:
        raise ArtifactError(f"{rel}: more than {max_tensors} tensors",
                            f"{rel}：超過 {max_tensors} 個張量")
    data_len = len(raw) - 8 - n
    for name, entry in header.items():
        ok = (isinstance(entry, dict) and entry.get("dtype") in _DTYPE_BYTES
              and isinstance(entry.get("shape"), list) and len(entry["shape"]) <= 8
              and all(isinstance(d, int) and not isinstance(d, bool) and 0 <= d < 2**40
                      for d in entry["shape"])
              and isinstance(entry.get("data_offsets"), list) and len(entry["data_offsets"]) == 2
              and all(isinstance(o, int) and not isinstance(o, bool) for o in entry["data_offsets"]))
        if not ok:
            raise ArtifactError(f"{rel}: tensor {str(name)[:60]!r} has a malformed header entry",
                                f"{rel}：張量 {str(name)[:60]!r} 的標頭項目格式錯誤")
        count = 1
        for d in entry["shape"]:
            count *= d
        start, end = entry["data_offsets"]
        if not 0 <= start <= end <= data_len or end - start != count * _DTYPE_BYTES[entry["dtype"]]:
            raise ArtifactError(f"{rel}: tensor {str(name)[:60]!r} lies about its size",
                                f"{rel}：張量 {str(name)[:60]!r} 的大小與標頭不符")
    return header


def read_tensors(base: Path, rel: str, max_bytes: int, *, max_tensors: int = 4096,
                 float32: bool = False) -> dict[str, Any]:
    """The safetensors artifact ``rel`` as ``{name: CPU tensor}`` (nothing is unpickled)."""
    from safetensors import SafetensorError
    from safetensors.torch import load

    raw = _read_bytes(safe_file(base, rel), rel, max_bytes)
    _header(raw, rel, max_tensors)
    try:
        tensors = load(raw)
    except (SafetensorError, ValueError, RuntimeError, OverflowError) as exc:
        raise ArtifactError(f"{rel}: not a readable safetensors file ({str(exc)[:120]})",
                            f"{rel}：不是可讀取的 safetensors 檔（{str(exc)[:120]}）") from None
    if float32:
        return {k: v.float() for k, v in tensors.items()}
    return dict(tensors)
