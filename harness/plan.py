"""The gap plan (pure): what to test next, ranked, from the last run's scorecard and the modules' source.

For every module and every target it misses, the plan counts the *units needed* to reach the target:

- line coverage:   statements to cover = ceil(target * statements / 100) - executed
- branch coverage: arcs to cover       = ceil(target * branches / 100) - covered branches
- mutation score:  mutants to detect   = ceil(target * valid / 100) - detected
  (with a sampled run, scaled from the sample to the module's whole mutant population)
- flaky rate:      flaky tests to fix  = flaky - the most flaky tests the rate allows (rate < target)

computed exactly (fractions), so that covering exactly that many units makes the gate pass. Modules are ranked
by their *weighted gap*:

    weighted gap = tier weight x complexity weight x units needed (summed over the metrics)
    complexity weight = 1 + decision points / statements   (cyclomatic complexity from the AST, see
                                                             harness.complexity)

The units needed grow with the module's size; the complexity weight puts branchy code first; the tier weight
(config ``tiers.NAME.weight``, 1 outside every tier) puts critical modules first.

Work items are the concrete tests to write: missing arcs grouped by function and described from the AST
("line 223->219 in sync_user_profiles: the else of 'if server_user'"), functions no test calls, missed lines
in handlers, surviving mutants as "a test that fails when X becomes Y" (from the mutant's diff), and the flaky
tests to fix. Only metrics that miss their target contribute items. Every item points at the run's data (the
arc, the mutant's name, the test's node id), so the plan never lists anything the run did not report.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path

from harness.collectors.mutmut_adapter import diff_sides
from harness.complexity import MODULE_SCOPE, SourceInfo
from harness.config import Config
from harness.errors import UsageError
from harness.model import METRICS, MODULE_METRICS, Metric, ModuleCoverage, ModuleScorecard, MutantStatus, Scorecard
from harness.notes import Note, NoteKind, note
from harness.workspace import read_scorecard

UNIT = {m: spec.plan_unit for m, spec in METRICS.items() if spec.plan_unit}  # a view of model.METRICS

# Item kinds, in the order they are listed within a function.
FUNCTION, BRANCH, LINES, MUTANT, FLAKY, QUARANTINED = "function", "branch", "lines", "mutant", "flaky", "quarantined"
_KIND_ORDER = {FUNCTION: 0, BRANCH: 1, LINES: 2, MUTANT: 3, FLAKY: 4}


@dataclass(frozen=True)
class Need:
    """One metric of one module: now vs target, and how many units close the gap (0 when met)."""

    metric: Metric
    value: float | None
    target: float
    needed: int
    unit: str
    comparison: str


@dataclass(frozen=True)
class WorkItem:
    """One test to write or fix. ``arc``/``mutant``/``test`` tie the item to the run's data."""

    kind: str
    module: str
    function: str
    line: int | None
    text: str
    arc: tuple[int, int] | None = None
    lines: tuple[int, ...] = ()
    mutant: str | None = None
    test: str | None = None
    # Surviving mutants on this item's never-run lines: a test covering them is the first step to kill them.
    also: tuple[str, ...] = ()


@dataclass(frozen=True)
class ModulePlan:
    module: str
    path: str
    tier: str | None
    tier_weight: float
    statements: int
    decisions: int
    complexity: int
    complexity_weight: float
    needs: tuple[Need, ...]
    units: int
    weighted_gap: float
    items: tuple[WorkItem, ...]


@dataclass(frozen=True)
class Plan:
    project: str
    run_time: str | None
    modules: tuple[ModulePlan, ...]  # ranked, largest weighted gap first; only modules with a gap
    met: tuple[str, ...]  # modules that meet every target (or have nothing to measure)
    batch_size: int = 0
    notes: tuple[Note, ...] = ()
    # Tests that cannot judge mutants (quarantined from the mutation phase): each a test to repair.
    quarantined: tuple[WorkItem, ...] = ()
    items: tuple[WorkItem, ...] = field(default=(), init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "items", tuple(i for m in self.modules for i in m.items))

    @property
    def batches(self) -> tuple[tuple[WorkItem, ...], ...]:
        """The flat, ranked item list cut into batches of ``batch_size`` (one batch when 0)."""
        if not self.batch_size:
            return (self.items,) if self.items else ()
        n = self.batch_size
        return tuple(self.items[i:i + n] for i in range(0, len(self.items), n))


# --------------------------------------------------------------------------------------------------- needs


def units_to_min(numerator: int, denominator: int, target: float) -> int:
    """Units to add to ``numerator`` so that ``100 * numerator / denominator >= target`` (exactly)."""
    if denominator <= 0:
        return 0
    goal = Fraction(repr(float(target))) * denominator / 100
    return max(0, math.ceil(goal) - numerator)


def units_to_max(count: int, total: int, target: float) -> int:
    """Units to remove from ``count`` so that ``100 * count / total < target`` (or 0 when the target is 0)."""
    if total <= 0:
        return 0
    t = Fraction(repr(float(target)))
    allowed = 0 if t == 0 else math.ceil(t * total / 100) - 1
    return max(0, count - allowed)


def _target(card: ModuleScorecard, cfg: Config, metric: Metric) -> float:
    """The target the run gated on (from its verdict), else the current config's."""
    for v in card.verdicts:
        if v.metric is metric:
            return v.target
    return cfg.targets_for(card.module).value(metric)


def module_needs(card: ModuleScorecard, cfg: Config) -> tuple[Need, ...]:
    """What each per-module metric needs to meet its target, read through ``METRICS`` (a sampled mutation
    score's units are scaled to the module's whole population)."""
    out = []
    for metric in MODULE_METRICS:
        spec = METRICS[metric]
        reading = spec.module(card)
        if reading is None or not reading.denominator or reading.numerator is None:
            continue
        num, den = int(reading.numerator), reading.denominator
        t = _target(card, cfg, metric)
        if spec.higher_is_better:
            needed = units_to_min(num, den, t)
            scale = _population_scale(card) if metric is Metric.MUTATION_SCORE else 1
            if scale != 1:
                needed = math.ceil(needed * scale)
        else:
            needed = units_to_max(num, den, t)
        out.append(Need(metric, reading.value(spec.scale), t, needed, UNIT[metric],
                        ">=" if spec.higher_is_better else "<"))
    return tuple(out)


def _population_scale(card: ModuleScorecard) -> float:
    """The module's mutants / the mutants a sampled run tested (1 when every mutant ran)."""
    mut = card.mutation
    if mut is None or not mut.population or not mut.counts.total:
        return 1.0
    return mut.population / mut.counts.total


# --------------------------------------------------------------------------------------------------- mutants

_TOKEN = re.compile(r"\w+|\s+|[^\w\s]")
_WHOLE = 50  # lines up to this long are quoted whole


def mutant_change(diff: str) -> tuple[str, str] | None:
    """(before, after) code of a mutant from its unified diff; long lines narrowed to the changed tokens."""
    removed, added = ([ln.strip() for ln in side] for side in diff_sides(diff))
    if not removed and not added:
        return None
    old, new = " ".join(removed), " ".join(added)
    if len(old) <= _WHOLE and len(new) <= _WHOLE:
        return old, new
    a, b = _TOKEN.findall(old), _TOKEN.findall(new)
    pre = 0
    while pre < min(len(a), len(b)) and a[pre] == b[pre]:
        pre += 1
    suf = 0
    while suf < min(len(a), len(b)) - pre and a[-1 - suf] == b[-1 - suf]:
        suf += 1
    context = 4
    start = max(0, pre - context)

    def span(tokens: list[str]) -> str:
        end = len(tokens) - max(0, suf - context)
        text = "".join(tokens[start:end]).strip()
        return ("…" if start > 0 else "") + text + ("…" if end < len(tokens) else "")

    return span(a), span(b)


def _clip(text: str, most: int = 72) -> str:
    return text if len(text) <= most else text[: most - 26] + "…" + text[-25:]


def describe_mutant(diff: str) -> str:
    change = mutant_change(diff)
    if change is None:
        return "a test that fails on this mutant (no diff recorded)"
    old, new = (_clip(t) for t in change)
    if not new:
        return f"a test that fails when `{old}` is removed"
    return f"a test that fails when `{old}` becomes `{new}`"


# --------------------------------------------------------------------------------------------------- items


def _runs(lines: Sequence[int]) -> list[list[int]]:
    out: list[list[int]] = []
    for n in sorted(lines):
        if out and n == out[-1][-1] + 1:
            out[-1].append(n)
        else:
            out.append([n])
    return out


def _lines_text(lines: Sequence[int]) -> str:
    parts = [f"{r[0]}-{r[-1]}" if len(r) > 1 else f"{r[0]}" for r in _runs(lines)]
    return ("lines " if len(lines) > 1 else "line ") + ", ".join(parts)


def coverage_items(module: str, cov: ModuleCoverage, info: SourceInfo | None, *, lines_gap: bool,
                   branch_gap: bool) -> list[WorkItem]:
    """Functions no test calls, missing arcs (described), and missed lines no missing arc explains."""
    if not (lines_gap or branch_gap):
        return []
    missing = set(cov.missing_lines)
    where = info.function_at if info else (lambda _line: MODULE_SCOPE)
    uncalled: dict[str, list[int]] = {}
    if info is not None:
        for f in info.functions:
            if f.body_start in missing and where(f.body_start) == f.qualname:
                uncalled[f.qualname] = [n for n in sorted(missing) if where(n) == f.qualname]
    items: list[WorkItem] = []
    for name, lines in uncalled.items():
        arcs = sum(1 for a in cov.missing_arcs if where(a[0]) == name)
        extra = f" and {arcs} branches" if arcs else ""
        items.append(WorkItem(FUNCTION, module, name, lines[0] if lines else None,
                              f"{name}: no test calls it ({_lines_text(lines)}{extra} never run)",
                              lines=tuple(lines)))
    if branch_gap:
        run_from = {run[0]: tuple(run) for run in _runs(sorted(missing))}
        for arc in cov.missing_arcs:
            fn = where(arc[0])
            if fn in uncalled:
                continue
            what = info.describe_arc(arc) if info else "a branch never taken"
            items.append(WorkItem(BRANCH, module, fn, arc[0],
                                  f"line {ModuleCoverage.format_arc(arc)} in {fn}: {what}", arc=arc,
                                  lines=run_from.get(arc[1], ())))
    if lines_gap:
        arc_into = {arc[1]: arc for arc in cov.missing_arcs if arc[1] > 0}
        for run in _runs(sorted(n for n in missing if where(n) not in uncalled)):
            if branch_gap and run[0] in arc_into:
                continue  # the branch item already asks for a test that runs these lines
            fn = where(run[0])
            if run[0] in arc_into:
                clause: str | None = info.describe_arc(arc_into[run[0]]) if info else None
            else:
                clause = info.clause_at(run[0]) if info else None
            why = f" ({clause})" if clause else ""
            items.append(WorkItem(LINES, module, fn, run[0], f"{_lines_text(run)} in {fn} never run{why}",
                                  lines=tuple(run)))
    return items


def module_items(card: ModuleScorecard, info: SourceInfo | None,
                 needs: Sequence[Need]) -> tuple[WorkItem, ...]:
    gap = {n.metric for n in needs if n.needed > 0}
    items: list[WorkItem] = []
    if card.coverage is not None:
        items += coverage_items(card.module, card.coverage, info, lines_gap=Metric.LINE_COVERAGE in gap,
                                branch_gap=Metric.BRANCH_COVERAGE in gap)
    if card.mutation is not None and Metric.MUTATION_SCORE in gap:
        folded: dict[int, list[str]] = {}
        owner = {n: i for i, it in enumerate(items) for n in it.lines}
        uncalled = {it.function: i for i, it in enumerate(items) if it.kind == FUNCTION}
        for m in card.mutation.mutants:
            if m.status not in (MutantStatus.SURVIVED, MutantStatus.NO_COVERAGE):
                continue
            start = info.statement_at(m.line) if info is not None and m.line is not None else m.line
            home = uncalled.get(m.function, owner.get(start) if start is not None else None)
            if home is not None:  # on a line no test runs: cover it first
                folded.setdefault(home, []).append(m.name)
                continue
            fn = m.function or (info.function_at(m.line) if info and m.line else MODULE_SCOPE)
            reach = " (no test reaches this code yet)" if m.status is MutantStatus.NO_COVERAGE else ""
            at = f", line {m.line}" if m.line else ""
            items.append(WorkItem(MUTANT, card.module, fn, m.line,
                                  f"{fn}{at}: {describe_mutant(m.diff)}{reach} [{m.name}]", mutant=m.name))
        for i, names in folded.items():
            text = f"{items[i].text}; then {len(names)} surviving mutant(s) there can be killed"
            items[i] = replace(items[i], also=tuple(names), text=text)
    if card.flakiness is not None and Metric.FLAKY_RATE in gap:
        for f in card.flakiness.flaky:
            polluter = f"; polluted by `{f.polluter}`" if f.polluter else ""
            items.append(WorkItem(FLAKY, card.module, MODULE_SCOPE, None,
                                  f"fix flaky test `{f.nodeid}` ({f.kind.value}, failed "
                                  f"{f.failures}/{f.runs} runs{polluter}); reproduce: `{f.reproduce}`",
                                  test=f.nodeid))
    # Grouped by function: the functions with the most items first, then in source order.
    first_line: dict[str, int] = {}
    count: dict[str, int] = {}
    for it in items:
        count[it.function] = count.get(it.function, 0) + 1
        first_line[it.function] = min(first_line.get(it.function, 10**9), it.line or 10**9)
    items.sort(key=lambda it: (it.kind == FLAKY, -count[it.function], first_line[it.function], it.function,
                               _KIND_ORDER[it.kind], it.line or 0))
    return tuple(items)


# --------------------------------------------------------------------------------------------------- plan


def module_plan(card: ModuleScorecard, cfg: Config, info: SourceInfo | None) -> ModulePlan:
    needs = module_needs(card, cfg)
    statements = card.coverage.numbers.statements if card.coverage else 0
    decisions = info.decisions if info else 0
    complexity_weight = 1 + decisions / statements if statements else 1.0
    tier = cfg.tier_for(card.module)
    tier_name = card.tier or (tier[0] if tier else None)
    weights = dict((name, t.weight) for name, t in cfg.tiers)
    tier_weight = weights.get(tier_name, 1.0) if tier_name else 1.0
    units = sum(n.needed for n in needs)
    return ModulePlan(
        module=card.module, path=card.path, tier=tier_name, tier_weight=tier_weight, statements=statements,
        decisions=decisions, complexity=info.complexity if info else 0, complexity_weight=complexity_weight,
        needs=needs, units=units, weighted_gap=tier_weight * complexity_weight * units,
        items=module_items(card, info, needs),
    )


def build(scorecard: Scorecard, cfg: Config, sources: Mapping[str, str], *, batch_size: int = 0,
          notes: Sequence[Note] = ()) -> Plan:
    """The ranked plan. ``sources`` maps module names to their source text (missing: no descriptions)."""
    plans = []
    extra_notes = list(notes)
    for card in scorecard.modules:
        info = None
        text = sources.get(card.module)
        if text is not None:
            try:
                info = SourceInfo.parse(text, card.path)
            except SyntaxError as exc:
                extra_notes.append(note(NoteKind.PLAN_UNPARSABLE, card.module, path=card.path, line=exc.lineno))
        plans.append(module_plan(card, cfg, info))
    ranked = sorted((p for p in plans if p.units > 0), key=lambda p: (-p.weighted_gap, p.module))
    met = tuple(p.module for p in plans if p.units == 0)
    return Plan(project=scorecard.project, run_time=scorecard.meta.time or None, modules=tuple(ranked),
                met=met, batch_size=batch_size, notes=tuple(extra_notes),
                quarantined=quarantine_items(scorecard))


def quarantine_items(scorecard: Scorecard) -> tuple[WorkItem, ...]:
    """One item per quarantined test: "this test cannot judge mutants: <cause>", with its reproduction."""
    return tuple(WorkItem(QUARANTINED, "", MODULE_SCOPE, None,
                          f"`{q.nodeid}` cannot judge mutants: {q.cause.value}"
                          + (f" ({q.detail})" if q.detail else "")
                          + (f"; reproduce: `{q.reproduce}`" if q.reproduce else ""), test=q.nodeid)
                 for q in scorecard.quarantined)


def load_scorecard(path: Path) -> Scorecard:
    """The scorecard of the last run (``reports/scorecard.json``); the plan never reruns a tool."""
    if not path.is_file():
        raise UsageError(f"no scorecard at {path}: run `harness run` first (the plan reads the last run)")
    return read_scorecard(path)


def read_sources(scorecard: Scorecard, root: Path,
                 run_file: Path | None = None) -> tuple[dict[str, str], list[Note]]:
    """The modules' source text (the scorecard's paths under ``root``) and notes on files changed since."""
    out: dict[str, str] = {}
    notes: list[Note] = []
    since = run_file.stat().st_mtime if run_file is not None and run_file.exists() else None
    for card in scorecard.modules:
        path = root / card.path
        try:
            out[card.module] = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            notes.append(note(NoteKind.PLAN_UNREADABLE, card.module, path=card.path))
            continue
        if since is not None and path.stat().st_mtime > since:
            notes.append(note(NoteKind.PLAN_CHANGED, card.module, path=card.path))
    return out, notes
