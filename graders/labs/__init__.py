"""Lab specs and per-lab checks that recompute every number from a run's artifacts.

- ``spec``: ``LabSpec`` (exercises/<dir>/lab.yaml), ``load_lab``, ``find_labs``, ``orphan_files``
- ``checks``: ``run_checks(spec, out_dir, submission_dir, heldout, seed) -> list[CheckResult]``
- ``lab_1_1``: Lab-1.1 (LoRA / QLoRA); evaluates in a child process with a timeout
- ``data/``: the grader's own held-out splits (never copied to a workspace)
"""
