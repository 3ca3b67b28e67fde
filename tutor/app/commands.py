"""Command palette provider: screens, lessons (concepts) and questions, in the current language."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from textual.command import DiscoveryHit, Hit, Hits, Provider

from tutor.app.modes import ALL_MODES
from tutor.app.strings import s


class TutorCommands(Provider):
    """Jump to a screen, open a lesson, or practise a question."""

    def _entries(self) -> list[tuple[str, str, Callable[[], Any]]]:
        app: Any = self.app
        lang = str(getattr(app, "lang", "en"))
        out: list[tuple[str, str, Callable[[], Any]]] = []
        svc = getattr(app, "services", None)
        self._n_modes = 0
        for mode in svc.modes() if svc is not None else ALL_MODES:
            self._n_modes += 1
            out.append((s("cmd.screen", lang, name=s(f"key.nav.{mode}", lang)),
                        s(f"tip.nav.{mode}", lang), partial(app.action_goto, mode)))
        if svc is None or not svc.course_loaded or svc.load_error is not None:
            return out
        try:
            course = svc.course
        except Exception:  # no course: screens only
            return out
        for c in course.concepts.values():
            out.append((s("cmd.lesson", lang, title=c.title.get(lang), id=c.id),
                        c.summary.get(lang), partial(app.open_lesson, c.id)))
        for q in course.questions.values():
            out.append((s("cmd.question", lang, id=q.id),
                        ", ".join(q.concepts),
                        partial(app.open_quiz, concept_id=q.concepts[0], question_id=q.id)))
        return out

    async def discover(self) -> Hits:
        entries = self._entries()
        for text, help_text, cmd in entries[: self._n_modes]:
            yield DiscoveryHit(text, cmd, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, help_text, cmd in self._entries():
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), cmd, text=text, help=help_text)
