"""Adaptive tutor and grader for core LLM-training techniques.

The package root imports nothing heavy: `tutor` must start fast (see docs/architecture.md).
"""

__version__ = "0.1.0"
