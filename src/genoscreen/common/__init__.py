"""Shared plumbing: user-facing errors, atomic output files, logging, progress bars."""
