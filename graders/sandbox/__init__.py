"""Running untrusted lab submissions with hard limits (see runner.py for the guarantees)."""

from graders.sandbox.files import (
    CopyRefused,
    CopyReport,
    copy_allowlisted,
    hash_tree,
    snapshot_tree,
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
    "run_sandboxed",
    "snapshot_tree",
]
