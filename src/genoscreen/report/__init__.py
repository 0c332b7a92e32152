"""The workflow's HTML report (`genoscreen report`)."""

from genoscreen.report.html import accuracy_lines, build_report, call_counts, evaluation_rows

__all__ = ["accuracy_lines", "build_report", "call_counts", "evaluation_rows"]
