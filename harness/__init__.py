"""quality-harness: per-module scorecards of how good a project's tests really are."""

from __future__ import annotations

__version__ = "0.1.0"
