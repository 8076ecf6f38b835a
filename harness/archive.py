"""The release bundle (config key ``archive``, on in the ``release`` profile): one ``.tar.gz`` under the
reports folder holding every report the run wrote, the gap plan, and ``environment.json``, a description of
where the figures came from: Python, platform, every installed package's version, the target's git commit, the
harness version and the effective config.

Raw tool artifacts (``reports/raw/``) stay out of the bundle: they are large and re-creatable; the reports
hold every figure. Written atomically (temp file, rename), like every harness file.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import sys
import tarfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness import __version__
from harness.config import Config
from harness.model import Scorecard
from harness.serialize import to_data
from harness.workspace import atomic_file, write_json

ENVIRONMENT = "environment.json"
PREFIX = "archive-"


def packages() -> dict[str, str]:
    """Every installed distribution of the running interpreter: name -> version, sorted by name."""
    out: dict[str, str] = {}
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            out[str(name)] = str(dist.version)
    return dict(sorted(out.items(), key=lambda kv: kv[0].lower()))


def environment(scorecard: Scorecard, cfg: Config, config_source: str | None) -> dict[str, Any]:
    """What produced these figures. Git facts come from the scorecard's meta (recorded by the run)."""
    meta = scorecard.meta
    return {
        "harness_version": __version__,
        "time": meta.time or None,
        "project": scorecard.project,
        "root": scorecard.root,
        "git": {"commit": meta.commit, "dirty": meta.dirty},
        "python": {"version": platform.python_version(), "implementation": platform.python_implementation(),
                   "executable": sys.executable},
        "platform": {"system": platform.system(), "release": platform.release(),
                     "machine": platform.machine(), "cpus": os.cpu_count()},
        "profile": cfg.profile or None,
        "config_source": config_source,
        "config": to_data(cfg),
        "packages": packages(),
    }


def bundle_members(reports: Path, written: Sequence[Path]) -> list[Path]:
    """The files to bundle: what the run wrote plus the lasting reports beside them, never raw artifacts."""
    keep = {p.resolve() for p in written if p.is_file()}
    for name in ("history.json", "baseline.json", "plan.md", "plan.json", ENVIRONMENT):
        if (reports / name).is_file():
            keep.add((reports / name).resolve())
    raw = (reports / "raw").resolve()
    return sorted(p for p in keep if p.is_relative_to(reports.resolve()) and not p.is_relative_to(raw)
                  and not p.name.startswith(PREFIX))


def write(scorecard: Scorecard, cfg: Config, reports: Path, written: Sequence[Path],
          config_source: str | None) -> list[Path]:
    """Write the gap plan, ``environment.json`` and the bundle; returns the paths written."""
    from harness import plan as planning
    from harness.reporters import plan_report

    sources, notes = planning.read_sources(scorecard, Path(scorecard.root))
    plan_files = plan_report.write(planning.build(scorecard, cfg, sources, notes=notes), reports)
    env_file = reports / ENVIRONMENT
    write_json(env_file, "environment", environment(scorecard, cfg, config_source))
    stamp = (scorecard.meta.time or "run").replace(":", "").replace("+0000", "Z")
    target = reports / f"{PREFIX}{stamp}.tar.gz"
    members = bundle_members(reports, [*written, *plan_files, env_file])
    with atomic_file(target) as tmp, tarfile.open(tmp, "w:gz") as tar:
        for path in members:
            tar.add(path, arcname=f"{target.name[:-7]}/{path.relative_to(reports.resolve()).as_posix()}")
    return [*plan_files, env_file, target]
