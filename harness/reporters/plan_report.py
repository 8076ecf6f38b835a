"""The gap plan as Markdown (``reports/plan.md``) and JSON (``reports/plan.json``). Formats only."""

from __future__ import annotations

from pathlib import Path

from harness.model import Metric
from harness.plan import ModulePlan, Need, Plan, WorkItem
from harness.reporters.fmt import COLUMNS, METRIC_LABEL, pct
from harness.serialize import to_data
from harness.workspace import atomic_write_text, write_json


def _need_cell(need: Need | None) -> str:
    if need is None:
        return "-"
    now = pct(need.value)
    if not need.needed:
        return f"{now} ✅"
    verb = "fix " if need.metric is Metric.FLAKY_RATE else "+"
    return f"{now} / {need.comparison} {need.target:g} % ({verb}{need.needed} {need.unit})"


def _need_sentence(need: Need) -> str:
    goal = f"{need.comparison} {need.target:g} %"
    if not need.needed:
        return f"| {METRIC_LABEL[need.metric]} | {pct(need.value)} | {goal} | met |"
    verb = "fix {n}" if need.metric is Metric.FLAKY_RATE else "{n} more"
    todo = f"{verb.format(n=need.needed)} {need.unit}"
    return f"| {METRIC_LABEL[need.metric]} | {pct(need.value)} | {goal} | {todo} |"


def _tier(p: ModulePlan) -> str:
    return f"{p.tier} (weight {p.tier_weight:g})" if p.tier else "-"


def _item_line(number: int, item: WorkItem, with_module: bool = False) -> str:
    where = f"`{item.module}` " if with_module else ""
    return f"{number}. [ ] {where}{item.text}"


def markdown(plan: Plan) -> str:
    when = f" of {plan.run_time}" if plan.run_time else ""
    lines = [f"# Test plan: {plan.project}", "",
             f"From the last run{when} (reports/scorecard.json). Modules are ranked by weighted gap = tier "
             "weight * complexity weight * units needed to reach the targets (statements + branches + "
             "mutants + flaky tests); complexity weight = 1 + decision points / statements.", ""]
    if not plan.modules:
        lines += ["Every module meets its targets: nothing to plan.", ""]
    else:
        lines += ["| # | Module | Tier | Weighted gap | " + " | ".join(METRIC_LABEL[m] for m in COLUMNS)
                  + " | Items |", "|---:|---|---|---:|" + "---|" * len(COLUMNS) + "---:|"]
        for rank, p in enumerate(plan.modules, 1):
            by_metric = {n.metric: n for n in p.needs}
            lines.append(f"| {rank} | `{p.module}` | {_tier(p)} | {p.weighted_gap:.1f} | "
                         + " | ".join(_need_cell(by_metric.get(m)) for m in COLUMNS) + f" | {len(p.items)} |")
        lines.append("")
    number = {id(it): i for i, it in enumerate(plan.items, 1)}
    for rank, p in enumerate(plan.modules, 1):
        tier = f"tier **{p.tier}** (weight {p.tier_weight:g})" if p.tier else "no tier (weight 1)"
        lines += [f"## {rank}. `{p.module}`", "",
                  f"File `{p.path}`, {tier}: {p.statements} statements, cyclomatic complexity {p.complexity} "
                  f"({p.decisions} decision points, weight {p.complexity_weight:.2f}); {p.units} units "
                  f"needed, weighted gap {p.weighted_gap:.1f}.", "",
                  "| Metric | Now | Target | To reach it |", "|---|---:|---:|---|"]
        lines += [_need_sentence(n) for n in p.needs]
        lines.append("")
        function = None
        for item in p.items:
            if item.function != function:
                function = item.function
                lines += ["", f"**{function}**", ""] if item.kind != "flaky" else ["", "**flaky tests**", ""]
            lines.append(_item_line(number[id(item)], item))
        lines.append("")
    if plan.batch_size and plan.items:
        lines += [f"## Batches of {plan.batch_size} items", ""]
        start = 1
        for b, batch in enumerate(plan.batches, 1):
            modules = sorted({it.module for it in batch})
            span = f"items {start}-{start + len(batch) - 1}" if len(batch) > 1 else f"item {start}"
            lines += [f"### Batch {b}: {span} ({', '.join(f'`{m}`' for m in modules)})", ""]
            lines += [_item_line(number[id(it)], it, with_module=True) for it in batch]
            lines.append("")
            start += len(batch)
    if plan.quarantined:
        lines += ["## Tests that cannot judge mutants", "",
                  "Quarantined from the mutation phase; mutants only they cover count as not covered. Repair "
                  "each so that it passes on unchanged code in every order, alone and under mutmut.", ""]
        lines += [f"- {item.text}" for item in plan.quarantined]
        lines.append("")
    if plan.met:
        lines += ["## Modules meeting every target (or with nothing to measure)", "",
                  ", ".join(f"`{m}`" for m in plan.met), ""]
    if plan.notes:
        lines += ["## Notes", ""] + [f"- {n.text}" for n in plan.notes] + [""]
    return "\n".join(lines)


def write(plan: Plan, reports: Path) -> list[Path]:
    """Write plan.md and plan.json under ``reports``; returns the files written."""
    md, js = reports / "plan.md", reports / "plan.json"
    atomic_write_text(md, markdown(plan))
    payload = to_data(plan)
    payload["batches"] = [[plan.items.index(it) + 1 for it in batch] for batch in plan.batches]
    write_json(js, "plan", {"plan": payload})
    return [md, js]
