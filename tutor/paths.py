"""Where the shipped course, content, exercises and the learner database live."""

from __future__ import annotations

import os
from pathlib import Path

_PKG = Path(__file__).resolve().parent
COURSE_ID = "core-training-techniques"


def data_root() -> Path:
    """Root holding curriculum/, content/ and exercises/.

    A wheel carries them under tutor/_data; an editable install or a checkout uses the repository.
    """
    bundled = _PKG / "_data"
    if (bundled / "curriculum").is_dir():
        return bundled
    return _PKG.parent


def default_course_dir() -> Path:
    """The shipped course directory."""
    return data_root() / "curriculum" / COURSE_ID


def exercises_dir() -> Path:
    return data_root() / "exercises"


def content_dir() -> Path:
    return data_root() / "content"


def user_data_dir() -> Path:
    """Per-user data directory (XDG on Linux). Imported lazily: platformdirs costs ~5 ms."""
    from platformdirs import user_data_dir as _udd

    return Path(_udd("llm-training-tutor", appauthor=False))


def default_db_path() -> Path:
    """TUTOR_DB overrides the user data dir."""
    env = os.environ.get("TUTOR_DB")
    if env:
        return Path(env)
    return user_data_dir() / "progress.sqlite3"


def workspace_dir() -> Path:
    """Where `tutor lab start` copies a lab's starter files (TUTOR_WORKSPACE overrides)."""
    env = os.environ.get("TUTOR_WORKSPACE")
    if env:
        return Path(env)
    return user_data_dir() / "workspace"
