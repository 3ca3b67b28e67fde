"""Grader-owned probe scripts (run inside the sandbox; see graders/labs/probing.py)."""
