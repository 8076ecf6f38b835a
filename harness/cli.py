"""The ``harness`` command. The only module that prints and the only one that picks exit codes.

Exit codes: 0 all targets met, 1 a target missed, 2 usage or config error, 3 a tool could not measure,
4 a harness bug (an unexpected exception: one line on stderr, the traceback in a log file), 5 another run is
using the project (its run lock). Expected failures (:class:`HarnessError`) become one line on stderr, never a
traceback.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import signal
import sys
import tempfile
import threading
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

from rich.console import Console

from harness import __version__
from harness.cli_output import FORMATS, console, isatty, progress_display
from harness.config import check_globs, describe_keys, load_config, parse_set
from harness.discover import check_root, discover
from harness.errors import EXIT_BUG, EXIT_OK, EXIT_TARGET_MISSED, EXIT_TOOL, EXIT_USAGE, HarnessError
from harness.model import Metric, Scorecard
from harness.workspace import Holder, Workspace, dedicated_folder, run_locks, writable_folder


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        """argparse errors are usage errors: one line, exit 2."""
        sys.stderr.write(f"harness: error: {message}\n")
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="harness", description="Per-module test quality scorecards gated against targets.")
    p.add_argument("--version", action="version", version=f"quality-harness {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    r = sub.add_parser("run", help="measure the target project and write its scorecards")
    r.add_argument("path", nargs="?", default=".", help="the target project's root (default: .)")
    r.add_argument("--config", type=Path, default=None,
                   help="config file (default: config/quality.toml in the target, else [tool.harness] in its "
                        "pyproject.toml)")
    r.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config key, e.g. --set targets.branch_coverage=90 (repeatable)")
    r.add_argument("--workers", type=int, default=None, help="pytest-xdist workers (default: cores)")
    r.add_argument("--quiet", action="store_true", help="print only the verdict lines (no table, no progress)")
    _add_format(r)
    r.add_argument("--shard", default=None, metavar="K/N",
                   help="mutation phase: run only slice K of N of the mutants (deterministic) and write "
                        "partial results; combine the shards' reports folders with `harness merge`")
    r.add_argument("--baseline", type=Path, default=None, metavar="FILE",
                   help="ratchet against this baseline (from `harness baseline update`, a history.json or a "
                        "scorecard.json): a module whose figure regressed beyond ratchet.tolerance fails the "
                        "gate. Default: config key ratchet.baseline, reports/baseline.json, else the last "
                        "history entry")
    _add_profile(r)
    r.add_argument("--sample", type=float, default=None, metavar="N",
                   help="test a seeded random sample of N mutants (or a fraction 0 < N < 1; turns mutation "
                        "on); the score comes with its 95 %% interval (config key sample.mutants)")
    r.add_argument("--since", default=None, metavar="REF",
                   help="diff mode: figures for the lines and functions changed since git REF too, and only "
                        "the changed functions' mutants tested (config key since)")

    c = sub.add_parser("config", help="list every config key with its default and help")
    c.add_argument("--markdown", action="store_true", help="as a Markdown table")

    pl = sub.add_parser("plan", help="write a ranked test plan (reports/plan.md, .json) from the last run")
    pl.add_argument("path", nargs="?", default=".", help="the target project's root (default: .)")
    pl.add_argument("--config", type=Path, default=None, help="config file (as for `run`)")
    pl.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config key")
    pl.add_argument("--batch", type=int, default=0, metavar="N",
                    help="cut the ranked work items into batches of N (default: one list)")
    pl.add_argument("--top", type=int, default=10, metavar="N", help="modules to print (default: 10)")
    _add_profile(pl)
    _add_history_commands(sub)

    mg = sub.add_parser("merge", help="combine the reports folders of `harness run --shard K/N` runs into "
                                      "the scorecards of one whole run")
    mg.add_argument("dirs", nargs="+", type=Path, metavar="DIR", help="each shard's reports folder (or root)")
    mg.add_argument("--output", type=Path, default=Path("reports"), metavar="DIR",
                    help="where to write the merged reports (default: ./reports)")
    mg.add_argument("--config", type=Path, default=None, help="config file with the targets to gate against "
                                                                 "(default: config/quality.toml in .)")
    mg.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config key")
    mg.add_argument("--baseline", type=Path, default=None, metavar="FILE",
                    help="ratchet the merged run against this baseline (as for `run`; default: "
                         "ratchet.baseline, <output>/baseline.json, else the last entry of "
                         "<output>/history.json)")
    _add_format(mg)
    return p


def _add_format(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=FORMATS, default="auto",
                        help="terminal output: plain (no colour, progress as a line every 10 s at most) or rich "
                             "(colours unless NO_COLOR is set, a live progress display on a terminal); default "
                             "auto: rich on a terminal, plain in a pipe or a CI log")


def _add_history_commands(sub: argparse._SubParsersAction[_Parser]) -> None:
    t = sub.add_parser("trend", help="print the last runs from the history (reports/history.json)")
    t.add_argument("path", nargs="?", default=".", help="the target project's root (default: .)")
    t.add_argument("--last", type=int, default=10, metavar="N", help="how many runs (default: 10)")
    t.add_argument("--module", default=None, help="one module's figures instead of the project totals")
    t.add_argument("--config", type=Path, default=None, help="config file (as for `run`)")
    t.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config key")
    b = sub.add_parser("baseline", help="`baseline update`: write the ratchet's baseline from the last run")
    b.add_argument("action", choices=["update"], help="update: write the baseline")
    b.add_argument("path", nargs="?", default=".", help="the target project's root (default: .)")
    b.add_argument("--output", type=Path, default=None, metavar="FILE",
                   help="where to write it (default: config key ratchet.baseline, or reports/baseline.json)")
    b.add_argument("--from", dest="source", type=Path, default=None, metavar="FILE",
                   help="a scorecard.json, history.json or baseline file to take it from "
                        "(default: reports/scorecard.json)")
    b.add_argument("--config", type=Path, default=None, help="config file (as for `run`)")
    b.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config key")


def _add_profile(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile", default=None, metavar="NAME",
                        help="apply a profile: pr, nightly, release or a [profiles.NAME] table of the config")


def _cli_settings(args: argparse.Namespace) -> dict[str, object]:
    settings: dict[str, object] = parse_set(args.set)
    if getattr(args, "workers", None) is not None:
        settings["workers"] = args.workers
    if getattr(args, "shard", None):
        settings["mutation.shard"] = args.shard
    if getattr(args, "profile", None):
        settings["profile"] = args.profile
    if getattr(args, "sample", None) is not None:
        settings["sample.mutants"] = args.sample
        settings.setdefault("mutation.enabled", True)  # asking for a sample of mutants asks for mutation
    if getattr(args, "since", None):
        settings["since"] = args.since
    return settings


def cmd_run(args: argparse.Namespace, out: Console, err: Console) -> int:
    from harness import pipeline

    root = Path(args.path)
    check_root(root)
    cfg, source = load_config(root, config_file=args.config, cli=_cli_settings(args))
    project = discover(root, cfg)
    check_globs(cfg, (m.name for m in project.modules))
    ws = Workspace.for_target(root, cfg, project)
    ws.prepare()
    live = args.format != "plain" and isatty(sys.stderr)
    with run_locks([ws.cache, ws.reports], _command(args)) as stale:
        _note_stale(stale, err)
        with progress_display(err, quiet=args.quiet, live=live) as progress:
            outcome = pipeline.run(root, cfg, config_source=source, progress=progress, baseline=args.baseline)
    return print_scorecard(outcome.scorecard, out, outcome.workspace.reports, quiet=args.quiet)


def print_scorecard(sc: Scorecard, out: Console, reports: Path, *, quiet: bool = False,
                    wrap: bool | None = None) -> int:
    """What ``run`` and ``merge`` print: the table (or blocks) laid out for the console's width, the notes,
    the phases' wall time, the verdict lines, where the reports are and the closing line; ``quiet``: only the
    verdict lines and the closing line. Returns the exit code.

    Lines are wrapped to the width on a terminal (``wrap`` None) and never split inside a figure; written to a
    pipe or a log, each stays one line (whole for grep).
    """
    from harness.reporters import terminal

    width = out.width if (isatty(out.file) if wrap is None else wrap) else 0

    def say(line: str, style: str = "") -> None:
        for part in terminal.wrap(line, width) if width else [line]:
            out.print(part, markup=False, soft_wrap=True, style=style)

    if not quiet:
        out.print(terminal.render(sc, out.width))
        for note in sc.notes:
            say(f"note: {note.text}")
        time_line = terminal.time_line(sc)
        if time_line:
            say(time_line)
    for line in terminal.verdict_lines(sc):
        say(line)
    if not quiet:
        say(f"reports: {reports}")
    return _conclude(sc, say)


def _command(args: argparse.Namespace) -> str:
    """What a run lock says its holder is doing, e.g. ``harness run /src/proj``."""
    path = getattr(args, "path", None)
    return f"harness {args.command}" + (f" {path}" if path else "")


def _note_stale(stale: list[Holder], err: Console) -> None:
    """One note per earlier run whose locks were taken over (a killed run held both the cache and reports)."""
    for holder in dict.fromkeys(stale):
        err.print(f"note: took over the run lock of an earlier harness run that ended without releasing it "
                  f"({holder.describe()})", markup=False, highlight=False, soft_wrap=True)


def _conclude(sc: Scorecard, say: Callable[[str, str], None]) -> int:
    """The closing line and the exit code: 3 when a cell could not be measured (after every report is
    written), else 1 when a target was missed or a module regressed, else 0."""
    if not sc.complete:
        cells = len(sc.unmeasured)
        say(f"{cells} cell(s) not measured (see the NOT MEASURED lines); "
            + (f"{len(sc.violations)} target(s) missed" if sc.violations else "no target missed")
            + " among the measured ones", "bold yellow")
        return EXIT_TOOL
    if sc.quarantined:
        why = "they cannot judge mutants" if Metric.MUTATION_SCORE in sc.metrics else "flaky or broken"
        say(f"{len(sc.quarantined)} test(s) quarantined: {why} (see the QUARANTINED lines; `harness plan` lists "
            "them as work items)", "")
    if sc.passed:
        say("all targets met", "green")
        return EXIT_OK
    regressed = f", {len(sc.regressions)} regression(s) against the baseline" if sc.regressions else ""
    say(f"{len(sc.violations)} target(s) missed{regressed}", "bold red")
    return EXIT_TARGET_MISSED


def cmd_config(args: argparse.Namespace, out: Console, err: Console) -> int:
    rows = describe_keys()
    if args.markdown:
        print("| key | default | meaning |\n|---|---|---|")
        for k, d, h in rows:
            print(f"| `{k}` | `{d}` | {h} |")
    else:
        for k, d, h in rows:
            print(f"{k} = {d}\n    {h}")
    return EXIT_OK


def cmd_plan(args: argparse.Namespace, out: Console, err: Console) -> int:
    from harness import plan as planning
    from harness.errors import UsageError
    from harness.reporters import plan_report
    from harness.workspace import Workspace

    if args.batch < 0 or args.top < 0:
        raise UsageError("--batch and --top take a number >= 0")
    root = Path(args.path)
    check_root(root)
    cfg, _source = load_config(root, config_file=args.config, cli=_cli_settings(args))
    reports = Workspace.for_target(root, cfg).reports
    scorecard = planning.load_scorecard(reports / "scorecard.json")
    sources, notes = planning.read_sources(scorecard, root, reports / "scorecard.json")
    plan = planning.build(scorecard, cfg, sources, batch_size=args.batch, notes=notes)
    written = plan_report.write(plan, reports)
    for rank, mp in enumerate(plan.modules[: args.top], 1):
        tier = f" [{mp.tier}]" if mp.tier else ""
        out.print(f"{rank:>3}. {mp.module}{tier}: weighted gap {mp.weighted_gap:.1f}, {mp.units} units, "
                  f"{len(mp.items)} work items", highlight=False, markup=False)
    if not plan.modules:
        out.print("every module meets its targets: nothing to plan")
    for item in plan.quarantined:
        out.print(f"quarantined: {item.text}", highlight=False, markup=False, soft_wrap=True)
    for note in plan.notes:
        out.print(f"note: {note.text}", markup=False)
    out.print(f"plan: {written[0]} ({len(plan.items)} work items"
              + (f" in {len(plan.batches)} batches)" if args.batch else ")"), highlight=False, markup=False)
    return EXIT_OK


def cmd_trend(args: argparse.Namespace, out: Console, err: Console) -> int:
    from harness import history
    from harness.errors import UsageError
    from harness.reporters import trend
    from harness.workspace import Workspace

    if args.last < 1:
        raise UsageError("--last takes a number >= 1")
    root = Path(args.path)
    check_root(root)
    cfg, _source = load_config(root, config_file=args.config, cli=_cli_settings(args))
    reports = Workspace.for_target(root, cfg).reports
    entries = history.read_history(reports)
    if not entries:
        out.print(f"no history yet: {reports / history.HISTORY_FILE} is written by `harness run`",
                  highlight=False, markup=False, soft_wrap=True)
        return EXIT_OK
    if args.module and not any(args.module in e.modules for e in entries):
        raise UsageError(f"module {args.module!r} is in none of the {len(entries)} runs of the history")
    out.print(trend.table(entries[-args.last:], args.module, out.width))
    return EXIT_OK


def cmd_baseline(args: argparse.Namespace, out: Console, err: Console) -> int:
    from harness import history
    from harness.workspace import Workspace

    root = Path(args.path)
    check_root(root)
    cfg, _source = load_config(root, config_file=args.config, cli=_cli_settings(args))
    reports = Workspace.for_target(root, cfg).reports
    if args.source is not None:
        history.check_given(args.source, "--from")
    source = args.source or reports / "scorecard.json"
    entry = history.read_baseline(source)
    output = args.output or (root / cfg.ratchet.baseline if cfg.ratchet.baseline
                             else reports / history.BASELINE_FILE)
    history.write_baseline(output, entry)
    out.print(f"baseline: {output} (from {source}, run {entry.label()}, {len(entry.modules)} modules)",
              highlight=False, markup=False, soft_wrap=True)
    return EXIT_OK


def cmd_merge(args: argparse.Namespace, out: Console, err: Console) -> int:
    from harness import history, pipeline, shard_plan

    cfg, _source = load_config(Path("."), config_file=args.config, cli=_cli_settings(args))
    output = dedicated_folder(Path("."), str(args.output), "--output")
    writable_folder(output, "--output")
    with run_locks([output], _command(args)) as stale:
        _note_stale(stale, err)
        base = history.resolve_baseline(Path("."), output, cfg, args.baseline)
        here = Path(".").resolve()  # the next run's shard plan (harness.shard_plan), where the shards read it
        plan = shard_plan.path_for(here, cfg.mutation.shard_plan,
                                   dedicated_folder(here, cfg.cache_dir, "config key 'cache_dir'"))
        card = pipeline.merge(args.dirs, cfg, output, base, plan=plan)
    return print_scorecard(card, out, args.output)


def _crash_log(argv: Sequence[str] | None) -> Path | None:
    """Write the traceback being handled to a log file in the temp folder; None when that fails too."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    try:
        fd, name = tempfile.mkstemp(prefix=f"harness-crash-{stamp}-", suffix=".log")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(f"quality-harness {__version__}, python {sys.version.split()[0]}\n")
            fh.write(f"command: harness {' '.join(sys.argv[1:] if argv is None else argv)}\n\n")
            fh.write(traceback.format_exc())
    except OSError:
        return None
    return Path(name)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__


COMMANDS = {"run": cmd_run, "config": cmd_config, "plan": cmd_plan, "trend": cmd_trend,
            "baseline": cmd_baseline, "merge": cmd_merge}


class Terminated(KeyboardInterrupt):
    """SIGTERM (``kill PID``, a CI job cancelled): the run stops as on Ctrl-C - its tools are stopped, its locks
    released, the verdicts saved so far kept - instead of dying with its tools still running."""


EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports Ctrl-C
EXIT_TERMINATED = 143  # 128 + SIGTERM


def _terminate(signum: int, frame: object) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second SIGTERM kills at once
    raise Terminated()


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    fmt = getattr(args, "format", "auto")
    out = console(fmt)
    err = console(fmt, stderr=True)
    handled = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminate) if handled else None
    try:
        return COMMANDS[args.command](args, out, err)
    except HarnessError as exc:
        sys.stderr.write(f"harness: error: {exc}\n")
        return exc.exit_code
    except KeyboardInterrupt as exc:
        how = "terminated (SIGTERM)" if isinstance(exc, Terminated) else "interrupted"
        sys.stderr.write(f"harness: {how}; completed results are kept and the next run resumes\n")
        return EXIT_TERMINATED if isinstance(exc, Terminated) else EXIT_INTERRUPTED
    except Exception as exc:  # anything else is a bug: one line here, the traceback in a file
        log = _crash_log(argv)
        where = f"the traceback is in {log}" if log else "its traceback could not be written to a file"
        sys.stderr.write(f"harness: internal error, a harness bug ({_one_line(exc)}); {where}; please report "
                         "it with that file\n")
        return EXIT_BUG
    finally:
        if handled:
            signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


if __name__ == "__main__":
    raise SystemExit(main())
