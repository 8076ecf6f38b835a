"""The built-in profiles: named sets of config settings selected with ``--profile`` (config key ``profile``).

A profile's settings apply between the config file and the ``HARNESS_*`` variables and ``--set``/CLI options:
defaults < config file < profile < environment < command line. A ``[profiles.NAME]`` table in the config file
extends a built-in profile of the same name, or defines a new one. Keys are dotted config keys, validated like
any other setting. The README's "Profiles" section documents these defaults; a test keeps the two in step.
"""

from __future__ import annotations

from typing import Any

# What each profile is for, printed by `harness config --profiles` and in the README.
PURPOSE: dict[str, str] = {
    "pr": "fast feedback on a pull request: diff mode against origin/main (only the changed functions' "
          "mutants), a random sample of 200 of them scored with its 95 % interval, one timed run, no "
          "flakiness reruns, no history or ratchet",
    "nightly": "the full measurement (every mutant), appended to the history and gated by the ratchet",
    "release": "the full audit: more repeated runs and reruns, a strict gate (an unmeasured metric "
               "fails, a test failing under mutmut stops the run instead of being quarantined) and one archive "
               "of every report plus the environment",
}

BUILTIN: dict[str, dict[str, Any]] = {
    "pr": {
        "since": "origin/main",
        "mutation.enabled": True,
        "sample.mutants": 200,
        "runtime.runs": 1,
        "flakiness.enabled": False,
        "history.enabled": False,
        "ratchet.enabled": False,
    },
    "nightly": {
        "mutation.enabled": True,
        "runtime.runs": 3,
        "flakiness.enabled": True,
        "history.enabled": True,
        "ratchet.enabled": True,
    },
    "release": {
        "mutation.enabled": True,
        "runtime.runs": 5,
        "flakiness.enabled": True,
        "flakiness.runs": 30,
        "flakiness.reruns": 10,
        "history.enabled": True,
        "ratchet.enabled": True,
        "gate.strict": True,
        "mutation.auto_quarantine": False,
        "archive": True,
    },
}


def describe(name: str) -> list[tuple[str, Any]]:
    """(dotted key, value) of a built-in profile, in declaration order."""
    return list(BUILTIN[name].items())


def markdown_table() -> str:
    """The README table of every built-in profile's settings."""
    lines = ["| profile | purpose | settings |", "|---|---|---|"]
    for name, settings in BUILTIN.items():
        shown = ", ".join(f"`{k} = {_toml(v)}`" for k, v in settings.items())
        lines.append(f"| `{name}` | {PURPOSE[name]} | {shown} |")
    return "\n".join(lines)


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return str(value)
