"""Base pydantic model and localised text shared by graders and the curriculum models."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr


class Model(BaseModel):
    """Base: unknown keys are errors (typos in YAML must not pass silently)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    _src: tuple[str, tuple[Any, ...]] | None = PrivateAttr(default=None)
    """(file, path inside the file) of the mapping this object came from, for error locations
    (set by the curriculum loader; None for objects built in code)."""


class Text(Model):
    """A user-facing string in both languages."""

    en: str = Field(min_length=1)
    """English text."""
    zh_TW: str = Field(alias="zh-TW", min_length=1)
    """Traditional Chinese (Taiwan) text; technical terms may stay in English."""

    def get(self, lang: str) -> str:
        """The text in ``lang`` ("en" or "zh-TW")."""
        return self.zh_TW if lang == "zh-TW" else self.en
