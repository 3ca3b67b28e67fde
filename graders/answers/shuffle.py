"""Per-learner option order for choice, multi and ordering questions.

Authors list options in any order (often the key first, and ordering items in the right order),
so every learner sees them shuffled: deterministically from the learner's seed for the question
(``learner_seed``, the same seed as the learner's variant), so a learner always sees the same
order for a question, and different learners see different orders.

``for_learner(question, learner)`` returns a relabelled copy of the question: its options in the
learner's order, labelled with the question's own labels in their sorted order (``a, b, c`` …),
and every reference to an option id (``answer``, response-tree ``option`` nodes) rewritten to the
new labels. Grading that copy reads the letters the learner typed in the order the learner saw,
and every feedback that names options names them as the learner saw them. Option texts and
feedback are not rewritten: they must not refer to other options by letter (the shipped bank
does not).
"""

from __future__ import annotations

import random
import re
import zlib

from graders.answers.schema import Node, Question

SHUFFLED_KINDS = ("choice", "multi", "ordering")


def learner_seed(learner: str, question_id: str) -> int:
    """The learner's stable seed for a question (variants and option order)."""
    return zlib.crc32(f"{learner}\0{question_id}".encode()) % 1_000_000


def option_order(question: Question, learner: str) -> list[str]:
    """The question's option ids (as authored) in the order ``learner`` sees them."""
    ids = [o.id for o in question.options]
    random.Random(f"options:{question.id}:{learner_seed(learner, question.id)}").shuffle(ids)
    return ids


def relabelling(question: Question, learner: str) -> dict[str, str]:
    """Authored option id -> the label ``learner`` sees (and types) for it."""
    labels = sorted(o.id for o in question.options)
    return dict(zip(option_order(question, learner), labels, strict=True))


def _ids(text: str) -> list[str]:
    return [t for t in re.split(r"[\s,]+", text.strip()) if t]


def for_learner(question: Question, learner: str | None) -> Question:
    """The question as ``learner`` sees it (unchanged when ``learner`` is None or the question
    has no options to shuffle)."""
    if learner is None or question.kind not in SHUFFLED_KINDS or len(question.options) < 2:
        return question
    from graders.answers.grading import _expected_options

    new = relabelling(question, learner)
    by_id = {o.id: o for o in question.options}
    options = [by_id[old].model_copy(update={"id": label})
               for old, label in sorted(new.items(), key=lambda kv: kv[1])]
    answer = [new[i] if i in new else i for i in _expected_options(question)]
    tree: list[Node] = []
    for node in question.tree:
        if node.test == "option" and node.answer is not None:
            mapped = ", ".join(new.get(i, i) for i in _ids(node.answer))
            node = node.model_copy(update={"answer": mapped})
        tree.append(node)
    return question.model_copy(update={"options": options, "answer": answer, "tree": tree})


def learner_options(question: Question, learner: str | None, lang: str) -> list[dict[str, str]]:
    """``[{label, text}]`` in the order ``learner`` sees them (``tutor questions --json``)."""
    q = for_learner(question, learner)
    return [{"label": o.id, "text": o.text.get(lang)} for o in q.options]
