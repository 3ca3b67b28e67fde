"""Lab specs and per-lab checks that recompute every number from a run's artifacts.

- ``spec``: ``LabSpec`` (exercises/<dir>/lab.yaml), ``load_lab``, ``find_labs``, ``orphan_files``
- ``checks``: ``run_checks(spec, out_dir, submission_dir, heldout, seed, ...) -> list[CheckResult]``
- ``kit``: what a checker is written with (``@check``, ``Fail(Problem(...))``, safe readers,
  tensor comparisons, the seeded tiny model); checks run in a child process with a timeout
- ``probing`` + ``probes/``: grader-owned scripts that run the learner's own functions in the
  sandbox with library shortcuts blocked, on inputs drawn at grading time
- ``launch`` + ``ranks``: the command line for N ranks (torchrun, deepspeed, spawn)
- ``lab_1_1``: Lab-1.1 (LoRA / QLoRA); ``selftest_ranks``: the 2-rank fixture lab of the tests
- ``data/``: the grader's own held-out splits (never copied to a workspace)
"""
