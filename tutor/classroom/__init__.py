"""Class-scale tools for instructors: the class report, BKT fitting and autograder bundles.

- ``data``: many learners' ``tutor export --format jsonl`` files (or one progress database) read
  into typed, validated records (the files are learner-supplied: sizes, types and values bounded);
- ``stats``: item statistics from first attempts (difficulty, point-biserial discrimination,
  distractor rates, time) and flags;
- ``bkt_fit``: per-concept BKT parameters fitted by expectation-maximisation;
- ``report``: the class report as JSON, Markdown, a self-contained HTML file or terminal plots;
- ``autograder``: the Gradescope bundle and the GitHub Classroom workflow.

Nothing here imports Textual or the ML stack.
"""
