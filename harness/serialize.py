"""Scorecard <-> plain JSON data (pure). Derived percentages are written for readers but ignored on load.

The document is versioned by :data:`harness.workspace.FORMAT`; ``scorecard_from_dict`` rebuilds the exact
dataclasses, so a written scorecard read back compares equal to the one in memory (tested).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from enum import Enum
from typing import Any

from harness import model
from harness.model import Scorecard

# Properties written next to the stored counts so that a reader of the JSON never recomputes a figure.
DERIVED: dict[type, tuple[str, ...]] = {
    model.CoverageNumbers: ("line_percent", "branch_percent", "missing", "missing_branches"),
    model.ModuleCoverage: ("missing_arcs_text",),
    model.MutationCounts: ("total", "detected", "valid", "score", "covered_score"),
    model.ModuleMutation: ("reachable_percent", "score_interval"),
    model.SuiteRuntime: ("median", "minimum", "maximum", "cpu_median"),
    model.ModuleFlakiness: ("rate",),
    model.FlakyTest: ("failure_rate",),
    model.Verdict: ("comparison",),
    model.ModuleScorecard: ("passed",),
    model.ProjectTotals: ("flaky_rate", "flaky_detectable"),
    model.Scorecard: ("passed",),
}


def to_data(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        out = {f.name: to_data(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
        for name in DERIVED.get(type(obj), ()):
            out[name] = to_data(getattr(obj, name))
        return out
    if isinstance(obj, Enum):
        return obj.value
    if isinstance(obj, (tuple, list)):
        return [to_data(x) for x in obj]
    if isinstance(obj, typing.Mapping):
        return {str(k): to_data(v) for k, v in obj.items()}
    return obj


def from_data(tp: Any, data: Any) -> Any:
    """Rebuild a value of (annotated) type ``tp`` from :func:`to_data` output; unknown keys are ignored."""
    if data is None:
        return None
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return from_data(args[0], data)
    if dataclasses.is_dataclass(tp):
        hints = typing.get_type_hints(tp, vars(model))
        kwargs = {f.name: from_data(hints[f.name], data[f.name])
                  for f in dataclasses.fields(tp) if f.name in data}
        return tp(**kwargs)  # type: ignore[operator]
    if origin is tuple:
        items = typing.get_args(tp)
        if len(items) == 2 and items[1] is Ellipsis:
            return tuple(from_data(items[0], x) for x in data)
        return tuple(from_data(a, x) for a, x in zip(items, data, strict=True))  # fixed-length tuple
    if origin is dict or tp is dict:
        return dict(data)
    if isinstance(tp, type) and issubclass(tp, Enum):
        return tp(data)
    if tp is float and isinstance(data, int):
        return float(data)
    return data


def scorecard_to_dict(card: Scorecard) -> dict[str, Any]:
    data: dict[str, Any] = to_data(card)
    return data


def scorecard_from_dict(data: dict[str, Any]) -> Scorecard:
    card: Scorecard = from_data(Scorecard, data)
    return card
