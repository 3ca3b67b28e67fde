"""The app's top-level screens, listed once: the app, the palette, help and the services read them.

Plain data (no Textual import), so that the headless services can read it too.
"""

from __future__ import annotations

SCREENS_BY_MODE: dict[str, tuple[str, str]] = {
    "home": ("tutor.app.screens.home", "HomeScreen"),
    "map": ("tutor.app.screens.map", "MapScreen"),
    "plan": ("tutor.app.screens.plan", "PlanScreen"),
    "labs": ("tutor.app.screens.labs", "LabsScreen"),
    "report": ("tutor.app.screens.report", "ReportScreen"),
    "calculators": ("tutor.app.screens.calculators", "CalculatorsScreen"),
    "settings": ("tutor.app.screens.settings", "SettingsScreen"),
}
"""Mode name -> (module, class), in navigation order; modules import on first visit."""
ALL_MODES: tuple[str, ...] = tuple(SCREENS_BY_MODE)
"""Every top-level screen, in navigation order."""
OPTIONAL_MODES: tuple[str, ...] = ("labs", "calculators")
"""Screens a course may not have (no labs; no ``calculators`` feature)."""
