"""Running untrusted lab submissions with hard limits (see runner.py for the guarantees)."""

from graders.sandbox.files import (
    CopyRefused,
    CopyReport,
    copy_allowlisted,
    hash_tree,
    remove_tree,
    snapshot_tree,
    walk,
)
from graders.sandbox.runner import (
    Limits,
    SandboxError,
    SandboxResult,
    available_isolation,
    run_sandboxed,
)

__all__ = [
    "CopyRefused",
    "CopyReport",
    "Limits",
    "SandboxError",
    "SandboxResult",
    "available_isolation",
    "copy_allowlisted",
    "hash_tree",
    "remove_tree",
    "run_sandboxed",
    "snapshot_tree",
    "walk",
]
