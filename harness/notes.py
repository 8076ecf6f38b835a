"""The run's notes as typed values, and the one table that words them (pure).

A :class:`Note` is a kind, the module it is about (None: the whole run) and its facts as plain JSON values.
Collectors and the pipeline create notes; code that picks notes out (``harness merge`` dropping a shard's note
about itself) compares kinds, never text. :data:`WORDING` is the one place a kind becomes a sentence: every
reporter prints :attr:`Note.text`, and scorecard.json stores it next to the facts for its readers. A note read
from an older scorecard (a plain string), or of a kind this version does not know, is a ``text`` note holding
its words.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from harness.stats import detectable_probability

Data = Mapping[str, Any]  # plain JSON values


class NoteKind(StrEnum):
    TEXT = "text"  # words only: an older scorecard's note, or a kind this version does not know
    XDIST_SERIAL = "xdist.serial"
    COVERAGE_REUSED = "coverage.reused"
    COVERAGE_INCREMENT = "coverage.increment"
    DIFF_NONE = "diff.none"
    DIFF_SUMMARY = "diff.summary"
    FLAKY_DETECTION = "flakiness.detection"
    FLAKY_EVIDENCE = "flakiness.evidence"
    FLAKY_SEEDS = "flakiness.seeds"
    FLAKY_UNSTABLE = "flakiness.unstable_ids"
    FLAKY_PARALLEL = "flakiness.parallel_unsafe"
    FLAKY_COST = "flakiness.cost"
    MUTATION_SHARD = "mutation.shard"
    MUTATION_MERGED = "mutation.merged"
    MUTATION_SHARD_PLAN = "mutation.shard_plan"
    MUTATION_SHARD_PLAN_UNWRITTEN = "mutation.shard_plan_unwritten"
    MUTATION_SHARDS_QUARANTINE = "mutation.shards_quarantine"
    MUTATION_DIFF = "mutation.diff"
    MUTATION_SAMPLE = "mutation.sample"
    MUTATION_QUARANTINE = "mutation.quarantine"
    MUTATION_PATTERN = "mutation.pattern_unmatched"
    MUTATION_MEMORY = "mutation.memory"
    MUTATION_RUNNER = "mutation.runner_errors"
    MUTATION_WARNING = "mutation.warning"
    MUTATION_UNCHECKED = "mutation.unchecked"
    MUTATION_BUDGET = "mutation.time_budget"
    MUTATION_SUSPICIOUS = "mutation.suspicious"
    # what the mutation driver healed or changed on its own (sent by the driver process)
    DRIVER_REBUILT = "mutation.driver.rebuilt"
    DRIVER_REGENERATED = "mutation.driver.regenerated"
    DRIVER_RESTORED = "mutation.driver.restored"
    DRIVER_WRITE_BACK = "mutation.driver.write_back"
    DRIVER_COVER_UNKNOWN = "mutation.driver.cover_unknown"
    DRIVER_RECHECKED = "mutation.driver.rechecked"
    DRIVER_REJUDGED = "mutation.driver.rejudged"
    # `harness plan`'s notes on the sources it reads
    PLAN_UNPARSABLE = "plan.unparsable"
    PLAN_UNREADABLE = "plan.unreadable"
    PLAN_CHANGED = "plan.changed"


@dataclass(frozen=True)
class Note:
    kind: NoteKind
    module: str | None = None
    data: Data = field(default_factory=dict, hash=False)

    @property
    def text(self) -> str:
        """The note worded (:data:`WORDING`)."""
        return WORDING[self.kind](self.data)


def note(kind: NoteKind, module: str | None = None, **data: Any) -> Note:
    return Note(kind, module, data)


def text_note(text: str) -> Note:
    return Note(NoteKind.TEXT, None, {"text": text})


def read_note(doc: Any) -> Note:
    """A note as stored (``{"kind", "module", "data", "text"}``), or an older file's plain string."""
    if isinstance(doc, str):
        return text_note(doc)
    if not isinstance(doc, dict):
        raise ValueError(f"a note is an object or a string, not {type(doc).__name__}")
    data, module = doc.get("data"), doc.get("module")
    if doc.get("kind") in set(NoteKind) and isinstance(data, dict) and (module is None or isinstance(module, str)):
        kept = Note(NoteKind(doc["kind"]), module, data)
        try:
            kept.text  # noqa: B018 - facts this version can word
        except (KeyError, TypeError, ValueError, IndexError):
            pass
        else:
            return kept
    if isinstance(doc.get("text"), str):
        return text_note(doc["text"])
    raise ValueError(f"a note of kind {doc.get('kind')!r} with no text")


# --------------------------------------------------------------------------------------------------- wording


def _pct(num: int, den: int) -> str:
    return f"{100 * num / den:.1f} % ({num}/{den})" if den else "n/a"


def _diff(d: Data) -> str:
    return (f"diff mode since {d['since']}: {d['lines']} changed lines in {d['modules']} module(s), "
            f"{d['functions']} function(s); changed-lines coverage: line {_pct(d['executed'], d['statements'])}, "
            f"branch {_pct(d['covered_branches'], d['branches'])}")


def _detection(d: Data) -> str:
    p = detectable_probability(d["runs"])
    floor = "nothing" if p is None else f"a test failing with probability >= {100 * p:.1f} %"
    return (
        f"flakiness: {d['runs']} runs judged ({d['repeated']} repeated in declared, reversed and shuffled orders, "
        f"with and without xdist, plus the coverage run); {floor} is seen failing with 95 % confidence - rarer "
        f"flakes can be missed, so a 0 % flaky rate is not proof of none"
    )


def _evidence(d: Data) -> str:
    power = detectable_probability(d["median_runs"])
    text = (f"flakiness: evidence accumulated over {d['sessions']} session(s): the median test has "
            f"{d['median_runs']} judged runs, so a flake failing >= {100 * power:.1f} % of the time is seen with "
            f"95 % confidence" if power is not None else "flakiness: no accumulated evidence yet")
    if d["known"]:
        text += f"; {d['known']} test(s) failed in earlier sessions only: " + ", ".join(
            evidence_of(*shown) for shown in d["shown"])
    return text


def evidence_of(nodeid: str, failures: int, runs: int, sessions: int, last_failure: str | None) -> str:
    """``test X: 0 failures in 143 runs over 13 sessions`` (a test's accumulated flaky evidence)."""
    last = f", last on {last_failure}" if failures and last_failure else ""
    return f"{nodeid}: {failures} failure(s) in {runs} runs over {sessions} session(s){last}"


def _unstable(d: Data) -> str:
    return (
        "flakiness: unstable test ids (parametrize ids that change between runs, e.g. timestamps or random tokens; "
        "not counted as tests run, flaky, new or missing): "
        + "; ".join(f"`{g}` ({len(ids)} different ids, e.g. `{ids[0][len(g):]}`)" for g, ids in d["groups"].items())
    )


def _parallel(d: Data) -> str:
    return (f"flakiness: {len(d['tests'])} test(s) fail only when run in parallel (not counted as flaky): "
            + "; ".join(f"`{t}`" + (f" collides with `{p}`" if p else "") for t, p in d["tests"]))


def _sample(d: Data) -> str:
    score = f"{d['score']:.1f} %" if d["score"] is not None else "n/a"
    shown = f"; 95 % interval {d['interval'][0]:.1f}-{d['interval'][1]:.1f} % (Wilson)" if d["interval"] else ""
    return (f"mutation: a random sample of {d['mutants']} of {d['population']} mutants (seed {d['seed']}): "
            f"score {score}{shown}")


def _quarantine(d: Data) -> str:
    return (f"mutation: {d['tests']} test(s) quarantined ("
            + ", ".join(f"{n} {c}" for c, n in sorted(d["causes"].items()))
            + f"), left out of the mutation phase only; {d['left']} mutant(s) left with no test count as no coverage")


def _rebuilt(d: Data) -> str:
    what = {"stats": "mutmut's stats file was {problem}; rebuilt (a full stats run)",
            "quarantine": "the quarantine record was {problem}; rebuilt (a full stats run)",
            "generation": "the generation record was {problem}; every mutated file is generated again",
            "meta": "mutmut's meta file of {path} was {problem}; rebuilt and its mutants tested again"}
    return "mutation: " + what[d["record"]].format_map(d)


def _restored(d: Data) -> str:
    return (f"mutation: the meta file of {', '.join(d['paths'])} lost its mutants during the run (a test "
            f"deleting files in the work copy?); restored from the generation record and tested")


def _write_back(d: Data) -> str:
    if d["error"]:
        return f"mutation: could not write back {d['path']}: {d['error']}"
    return f"mutation: {d['path']} was deleted during the run (by a test?); written back"


WORDING: dict[NoteKind, Callable[[Data], str]] = {
    NoteKind.TEXT: "{text}".format_map,
    NoteKind.COVERAGE_REUSED: (
        "the suite was not run again under coverage.py: nothing its coverage depends on changed since the run of "
        "{created} (every file of the project copy, the tools, the coverage settings; key {key}), so its data is "
        "reused; `--set coverage.reuse=false` measures it again"
    ).format_map,
    NoteKind.COVERAGE_INCREMENT: lambda d: (
        f"only {d['rerun']} of {d['tests']} tests ran again under coverage.py: the ones that executed "
        f"{', '.join(d['changed'])} (function bodies edited since the run of {d['created']}, key {d['key']}) "
        "or share a fixture with them; the other tests' data is that run's; `--set coverage.reuse=false` "
        "measures the whole suite"
    ),
    NoteKind.XDIST_SERIAL: (
        "xdist: the workers collected different test ids (parametrize ids built from the time or random values), "
        "so every phase ran serially (workers = 1) instead of on {workers} workers; suite runtime is a serial time"
    ).format_map,
    NoteKind.DIFF_NONE: "diff mode: no measured module changed".format_map,
    NoteKind.DIFF_SUMMARY: _diff,
    NoteKind.FLAKY_DETECTION: _detection,
    NoteKind.FLAKY_EVIDENCE: _evidence,
    NoteKind.FLAKY_SEEDS: lambda d: ("flakiness: shuffled runs used seeds " + ", ".join(map(str, d["seeds"]))
                                     + " (--harness-order=shuffle --harness-seed=N replays one)"),
    NoteKind.FLAKY_UNSTABLE: _unstable,
    NoteKind.FLAKY_PARALLEL: _parallel,
    NoteKind.FLAKY_COST: (
        "flakiness: the phase's extra cost was {extra_seconds:.1f} s ({extra_runs} runs beyond the runtime phase's "
        "and {reruns} classification reruns) = {extra_multiple:.1f}x one suite run ({suite_seconds:.2f} s)").format_map,
    NoteKind.MUTATION_SHARD: lambda d: (
        f"mutation: shard {d['shard']} holds {d['in_scope']} of {d['generated']} mutants"
        f"{' (' + d['split'] + ')' if d.get('split') else ''}; combine the shards with `harness merge`"),
    NoteKind.MUTATION_SHARD_PLAN: lambda d: (
        f"mutation: the next shard plan ({d['shards']} shards, {d['low_seconds']:.1f}-{d['high_seconds']:.1f} s "
        f"of mutant time each by this run's durations) is in {d['path']}"),
    NoteKind.MUTATION_SHARD_PLAN_UNWRITTEN: (
        "mutation: the next shard plan could not be written to {path} ({error})").format_map,
    NoteKind.MUTATION_MERGED: lambda d: f"mutation: merged from {d['shards']} shards ({', '.join(d['folders'])})",
    NoteKind.MUTATION_SHARDS_QUARANTINE: (
        "mutation: the shards quarantined different tests (flaky ones found in one run and not another?); the merged "
        "run lists all {tests}").format_map,
    NoteKind.MUTATION_DIFF: (
        "mutation: diff mode since {since}: only the {mutants} mutants of the {functions} function(s) changed were "
        "tested").format_map,
    NoteKind.MUTATION_SAMPLE: _sample,
    NoteKind.MUTATION_QUARANTINE: _quarantine,
    NoteKind.MUTATION_PATTERN: lambda d: (f"mutation: config key 'mutation.quarantine' pattern {d['pattern']!r} "
                                          f"matches no test"),
    NoteKind.MUTATION_MEMORY: (
        "mutation: {mutants} mutant(s) killed by the memory limit (mutation.memory_limit_mb)").format_map,
    NoteKind.MUTATION_RUNNER: (
        "mutation: the harness's runner failed on {mutants} mutant(s), counted suspicious (first: {first}); details "
        "in {details}").format_map,
    NoteKind.MUTATION_WARNING: "mutation: {warning} ({mutants} mutant(s))".format_map,
    NoteKind.MUTATION_UNCHECKED: (
        "mutation: {mutants} mutant(s) in scope were not checked (interrupted or left over) and are not in any score; "
        "run again to check them").format_map,
    NoteKind.MUTATION_BUDGET: (
        "mutation: the time budget of {budget:g} s (config key 'mutation.time_budget') was reached: {judged} of "
        "{mutants} mutants judged, the modules with mutants left are not measured; the next run resumes where this "
        "one stopped").format_map,
    NoteKind.MUTATION_SUSPICIOUS: (
        "mutation: {mutants} suspicious mutant(s) (their test process crashed or was killed by a signal) are in no "
        "score").format_map,
    NoteKind.DRIVER_REBUILT: _rebuilt,
    NoteKind.DRIVER_REGENERATED: "mutation: regenerated the mutants of {path}: {reason}".format_map,
    NoteKind.DRIVER_RESTORED: _restored,
    NoteKind.DRIVER_WRITE_BACK: _write_back,
    NoteKind.DRIVER_COVER_UNKNOWN: (
        "mutation: could not tell what {tests} quarantined test(s) cover on the original code").format_map,
    NoteKind.DRIVER_RECHECKED: (
        "mutation: {verdicts} verdict(s) re-checked: the tests covering them entered or left the quarantine"
    ).format_map,
    NoteKind.DRIVER_REJUDGED: lambda d: (f"mutation: {d['tests']} test(s) quarantined last run are judged again: the "
                                         f"mutated code changed ({', '.join(d['changed'])})"),
    NoteKind.PLAN_UNPARSABLE: "{path} does not parse (line {line}); items undescribed".format_map,
    NoteKind.PLAN_UNREADABLE: "{path} is unreadable now; its items are listed without descriptions".format_map,
    NoteKind.PLAN_CHANGED: "{path} changed after the run: its line numbers may have moved".format_map,
}
