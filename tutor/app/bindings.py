"""Key bindings in the app's language, shared by the app and every screen.

Its own module so that screens/base.py need not import tutor/app/app.py (which imports the
screens): that was an import cycle, hidden by a function-level import.
"""

from __future__ import annotations

from dataclasses import replace

from textual.binding import Binding, BindingsMap
from textual.dom import DOMNode

from tutor.app.strings import s


def localize_bindings(node: DOMNode, lang: str) -> None:
    """Rewrite the descriptions and tooltips of ``node``'s bindings that have an id.

    The text comes from strings.py keys ``key.<id>`` and ``tip.<id>``; the footer re-reads them
    on ``refresh_bindings``. (Binding descriptions are class data in Textual; this keeps the
    per-instance copy in step with the language.)
    """
    keys: dict[str, list[Binding]] = {}
    for key, bindings in node._bindings.key_to_bindings.items():
        out = []
        for b in bindings:
            if b.id:
                b = replace(b, description=s(f"key.{b.id}", lang), tooltip=s(f"tip.{b.id}", lang))
            out.append(b)
        keys[key] = out
    node._bindings = BindingsMap.from_keys(keys)
