"""Grading library: answer checking, lab checks, sandbox and rubric reports.

Usable on its own: imports neither tutor/ nor Textual nor the ML stack at module level.
"""

__version__ = "0.1.0"
