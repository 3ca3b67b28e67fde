"""Units in numeric answers: "2.8 TB", "2800 GB" and "2.8e12 bytes" for a question in GB.

A numeric question may declare ``unit`` (one of ``UNITS``). A learner's answer may then end in a
unit: the trailing word is looked up in the whitelist below, never handed to pint's parser (pint
parses unit strings with an expression evaluator: learner text must not reach it). Conversion
factors between two whitelisted units come from pint (a maintained units library, not a hand
table), imported lazily and cached, so neither pint nor sympy loads when the app starts.

The grader then grades ``(number) * factor`` in the question's unit with the usual numeric test,
so tolerances and response-tree nodes keep working; a bare number is read in the question's unit.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

_BYTES = {
    "B": "byte", "byte": "byte", "bytes": "byte",
    "kB": "kilobyte", "KB": "kilobyte", "MB": "megabyte", "GB": "gigabyte", "TB": "terabyte",
    "PB": "petabyte",
    "KiB": "kibibyte", "MiB": "mebibyte", "GiB": "gibibyte", "TiB": "tebibyte", "PiB": "pebibyte",
    "bit": "bit", "bits": "bit",
}
_FLOPS = {
    "FLOP": "FLOP", "FLOPs": "FLOP", "GFLOP": "gigaFLOP", "GFLOPs": "gigaFLOP",
    "TFLOP": "teraFLOP", "TFLOPs": "teraFLOP", "PFLOP": "petaFLOP", "PFLOPs": "petaFLOP",
    "EFLOP": "exaFLOP", "EFLOPs": "exaFLOP",
}
_TIME = {
    "s": "second", "sec": "second", "seconds": "second", "ms": "millisecond",
    "us": "microsecond", "µs": "microsecond", "ns": "nanosecond", "min": "minute",
    "h": "hour", "hours": "hour", "day": "day", "days": "day", "years": "year",
}
UNITS: dict[str, str] = {**_BYTES, **_FLOPS, **_TIME}
"""Accepted spellings -> pint unit names. The only unit strings pint ever sees are the values."""

_CASELESS: dict[str, str] = {
    k.casefold(): k for k in (*_BYTES, *_FLOPS) if len(k) > 1 and not k.startswith("bit")
}
"""Case-insensitive spellings ("gb", "tflops"): learners type them; a lone "b" stays unread
(bit or byte?), and "Gb" reads as gigabytes, the usual meaning in a memory question."""

_FAMILIES: dict[str, tuple[str, ...]] = {
    "byte": ("B", "kB", "MB", "GB", "TB", "PB", "KiB", "MiB", "GiB", "TiB"),
    "FLOP": ("FLOP", "GFLOP", "TFLOP", "PFLOP", "EFLOP"),
    "second": ("ns", "us", "ms", "s", "min", "h", "day"),
}

_TRAILING = re.compile(r"^(?P<num>.*?[\d.)\s])\s*(?P<unit>[A-Za-zµ]+)\s*$", re.S)


def spelling(word: str) -> str | None:
    """The whitelisted spelling ``word`` stands for, or None."""
    if word in UNITS:
        return word
    return _CASELESS.get(word.casefold())


def split_unit(answer: str, reserved: set[str] | frozenset[str] = frozenset()
               ) -> tuple[str, str | None]:
    """(number text, unit spelling or None). A trailing word is a unit only when whitelisted
    and not one of the question's own names (``reserved``)."""
    m = _TRAILING.match(answer)
    if m is None or m.group("unit") in reserved:
        return answer, None
    unit = spelling(m.group("unit"))
    if unit is None or not m.group("num").strip():
        return answer, None
    return m.group("num").strip(), unit


@lru_cache(maxsize=1)
def _registry() -> Any:
    import pint

    ureg: Any = pint.UnitRegistry()
    ureg.define("FLOP = [floating_point_operation]")
    return ureg


@lru_cache(maxsize=512)
def factor(src: str, dst: str) -> float | None:
    """How many ``dst`` one ``src`` is (both whitelisted spellings); None when the dimensions
    differ (bytes and seconds)."""
    import pint

    ureg = _registry()
    try:
        return float(ureg.Quantity(1.0, UNITS[src]).to(UNITS[dst]).magnitude)
    except pint.DimensionalityError:
        return None


def family(unit: str) -> tuple[str, ...]:
    """The usual spellings of ``unit``'s dimension (tried for "right number, wrong unit")."""
    for members in _FAMILIES.values():
        if factor(members[0], unit) is not None:
            return members
    return ()
