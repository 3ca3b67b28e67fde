"""Sub-commands of this area are registered here (see tutor/cli/__init__.py)."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    """Add this area's sub-commands to the `tutor` parser."""
