"""The app's screens (a regular package, so that import-linter sees them)."""
