"""The command line speaks both languages: every help string has a zh-TW text."""

from __future__ import annotations

import subprocess
import sys

from tutor.cli import build_parser, help_strings
from tutor.cli.help_zh import HELP_ZH


def test_every_help_string_has_a_translation() -> None:
    missing = [s for s in help_strings(build_parser()) if s not in HELP_ZH
               and s != "show this help message and exit"]
    assert missing == [], f"add these to tutor/cli/help_zh.py: {missing}"


def test_no_stale_translations() -> None:
    used = set(help_strings(build_parser()))
    assert sorted(set(HELP_ZH) - used) == []


def _run(*args: str, env_lang: str | None = None) -> subprocess.CompletedProcess[str]:
    import os

    env = dict(os.environ)
    env.pop("TUTOR_LANG", None)
    if env_lang:
        env["TUTOR_LANG"] = env_lang
    return subprocess.run([sys.executable, "-m", "tutor", *args], capture_output=True, text=True,
                          timeout=60, env=env)


def test_help_in_zh_tw() -> None:
    r = _run("--lang", "zh-TW", "--help")
    assert r.returncode == 0
    assert r.stdout.startswith("用法：tutor")
    assert "選項" in r.stdout and "顯示此說明並結束" in r.stdout
    assert "評分一個答案並記錄" in r.stdout


def test_usage_error_in_zh_tw_from_env() -> None:
    r = _run("graph", "--format", "svg", env_lang="zh-TW")
    assert r.returncode == 2
    assert "錯誤：參數 --format：無效的選擇：'svg'" in r.stderr


def test_english_stays_english() -> None:
    r = _run("graph", "--format", "svg", env_lang="en")
    assert r.returncode == 2 and "invalid choice: 'svg'" in r.stderr
