"""The command line: ``python -m balloonscript COMMAND ...`` (``balloonscript COMMAND ...`` once installed).

    python -m balloonscript scenarios
    python -m balloonscript explore deflate-vs-isolate --design legacy --strategy dfs --depth 2
    python -m balloonscript run job.toml                      # one experiment (see balloonscript.jobs)
    python -m balloonscript sweep job.toml --workers 2 --csv > results.csv
    python -m balloonscript demo --out out

Every command prints text, or its result as JSON (``--json``) or CSV (``--csv``) on stdout. Arguments are
checked before anything runs. An error is one line on stderr, exit status 2 for wrong input and 1 for anything
else (BALLOONSCRIPT_TRACEBACK=1 shows its traceback); explore --fail-on-finding exits 1 when a schedule failed.
A reader that stops early (``... | head``) ends the command quietly with status 141, as SIGPIPE ends a C tool.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import tempfile
import time
import warnings
from typing import TYPE_CHECKING

if TYPE_CHECKING:   # pandas is imported where a command needs it: a usage error is reported without it
    import pandas as pd


class Parser(argparse.ArgumentParser):
    """argparse reporting a usage error as one line, ``prog: error: message``, with exit status 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


Defaults = argparse.ArgumentDefaultsHelpFormatter


# --------------------------------------------------------------------------- argument types

def _at_least(low: int):
    def integer(text: str) -> int:
        value = int(text)   # a ValueError here: argparse says "invalid integer value"
        if value < low:
            raise argparse.ArgumentTypeError(f"must be an integer >= {low}, got {value}")
        return value
    return integer


def _fraction(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be a number in [0, 1], got {text}")
    return value


def _writable(name: str, folder: str) -> None:
    """Create ``folder`` if needed and check that a file can be written in it; ValueError naming ``name`` if not."""
    try:
        os.makedirs(folder, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as e:
        raise ValueError(f"{name}: cannot write in folder {folder!r}: {e.strerror or e}") from None


# --------------------------------------------------------------------------- output

def _emit(args, frame: pd.DataFrame, text: str, data=None) -> None:
    """Print the result: ``text``; with --csv ``frame``; with --json ``data`` (default: the frame's rows)."""
    if args.format == "csv":
        sys.stdout.write(frame.to_csv(index=False))
    elif args.format == "json":
        print(json.dumps(json.loads(frame.to_json(orient="records")) if data is None else data, indent=2))
    else:
        print(text)


def _table_text(frame: pd.DataFrame) -> str:
    """A frame as text: one line per row, or for a single row one line per column."""
    return frame.to_string(index=False) if len(frame) != 1 else frame.T.to_string(header=False)


def _quiet(*args, **kwargs) -> None:
    """Says nothing: the demo's narration under --json / --csv."""


# --------------------------------------------------------------------------- commands

def _scenarios(bs, args) -> int:
    import pandas as pd
    names = bs.scenarios()
    _emit(args, pd.DataFrame({"scenario": names}), "\n".join(names), names)
    return 0


def _explore_text(res, trace: bool) -> str:
    lines = [f"{res.scenario} [{res.design}, {res.strategy}]: {res.failing} of {res.schedules} schedules failed"
             + (" (every schedule within the bound)" if res.exhausted else "")]
    lines += [f"  {kind}: {n}" for kind, n in res.failing_by_kind.items()]
    run = res.first_failure
    if run is not None:
        lines.append(f"first failing schedule: {run.index}")
        lines += [str(report) for report in run.reports]
        if trace:
            lines.append(run.trace.to_string(index=False))
    return "\n".join(lines)


def _explore(bs, args) -> int:
    import pandas as pd
    if args.reduction != "none":
        bs.enable_partial_order_reduction()   # before this process's first simulation
    # A dfs stopped short: the library warns its caller (naming schedules=), the command says so itself below (--schedules).
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="dfs stopped after", category=RuntimeWarning)
        res = bs.explore(args.scenario, design=args.design, strategy=args.strategy, schedules=args.schedules,
                         seed=args.seed, depth=args.depth, progress=not args.quiet, reduction=args.reduction,
                         threads=args.threads)
    run = res.first_failure
    summary = {"scenario": res.scenario, "design": res.design, "strategy": res.strategy, "seed": args.seed,
               "depth": args.depth, "reduction": res.reduction, "schedules": res.schedules, "pruned_runs": res.pruned_runs,
               "failing": res.failing, "exhausted": res.exhausted,
               "first_failing_schedule": None if run is None else run.index}
    frame = pd.DataFrame([{**summary, **{f"failing_{k}": n for k, n in res.failing_by_kind.items()}}])
    data = {**summary, "failing_by_kind": res.failing_by_kind, "failing_indices": res.failing_indices,
            "first_failure": None if run is None else {
                "index": run.index, "choices": [int(c) for c in run.choices], "deadlock": run.deadlock,
                "reports": [dataclasses.asdict(r) for r in run.reports],
                "trace": json.loads(run.trace.to_json(orient="records")) if args.trace else None}}
    _emit(args, frame, _explore_text(res, args.trace), data)
    if res.strategy == "dfs" and not res.exhausted:
        print(f"WARNING: NOT EXHAUSTIVE: dfs stopped after {res.schedules} schedules, before covering every "
              f"schedule with at most {args.depth} preemptions; raise --schedules", file=sys.stderr)
    return 1 if args.fail_on_finding and res.failing else 0


def _run(bs, args) -> int:
    from . import jobs
    frame = jobs.load(args.job, grid=False).run()
    _emit(args, frame, _table_text(frame))
    return 0


def _sweep(bs, args) -> int:
    from . import jobs
    frame = jobs.load(args.job, grid=True).run(workers=args.workers, progress=not args.quiet)
    _emit(args, frame, _table_text(frame))
    return 0


def _demo(bs, args) -> int:
    for design in args.designs:
        bs.Simulation(memory_mib=args.memory_mib, design=design, seed=args.seed)   # the engine checks the size
    _writable("--out", args.out)
    if args.readme_image:
        _writable("--readme-image", os.path.dirname(args.readme_image) or ".")
    from . import demo   # matplotlib: after the checks
    t0 = time.perf_counter()
    if args.format != "text":
        _emit(args, demo.summary_frame(demo.run(args, say=_quiet)), "")
        return 0
    demo.print_summary(demo.run(args))
    print(f"\nplots written under {os.path.abspath(args.out)}/ ({time.perf_counter() - t0:.1f} s)")
    return 0


# --------------------------------------------------------------------------- the parser

def build_parser(bs, prog: str) -> Parser:
    """Returns the parser of every command, with the choices the engine offers (designs, strategies, scenarios)."""
    p = Parser(prog=prog, description="BalloonScript: a simulator of Linux memory management and balloon compaction",
               formatter_class=Defaults)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    output = argparse.ArgumentParser(add_help=False)
    fmt = output.add_mutually_exclusive_group()
    fmt.add_argument("--json", dest="format", action="store_const", const="json", default=argparse.SUPPRESS,
                     help="print the result as JSON")
    fmt.add_argument("--csv", dest="format", action="store_const", const="csv", default=argparse.SUPPRESS,
                     help="print the result as CSV")

    def command(name: str, about: str, handler) -> Parser:
        c = sub.add_parser(name, help=about, description=about, parents=[output], formatter_class=Defaults)
        c.set_defaults(handler=handler)
        return c

    command("scenarios", "list the scenarios explore can run", _scenarios)

    e = command("explore", "explore interleavings of a scenario", _explore)
    scenarios = bs.scenarios()
    e.add_argument("scenario", choices=scenarios, metavar="scenario", help="one of: " + ", ".join(scenarios))
    e.add_argument("--design", choices=bs.DESIGNS, default="legacy", help="the balloon design")
    e.add_argument("--strategy", choices=bs.STRATEGIES, default="random", help="how schedules are chosen")
    e.add_argument("--schedules", type=_at_least(1), default=1000, help="schedules to run (dfs: at most)")
    e.add_argument("--seed", type=int, default=0, help="seed of the schedules")
    e.add_argument("--depth", type=_at_least(0), default=3, help="pct bug depth, or dfs preemption bound")
    e.add_argument("--reduction", choices=["none", "sleep-sets"], default="none",
                   help="dfs: partial-order reduction (sleep-sets: every failure within the bound, fewer schedules)")
    e.add_argument("--threads", type=_at_least(1), default=None,
                   help="host CPUs to explore on (default: all; dfs with a bound below 2: one; the result is the same)")
    e.add_argument("--trace", action="store_true", help="print the first failing schedule's preemption points")
    e.add_argument("--quiet", action="store_true", help="no progress bar")
    e.add_argument("--fail-on-finding", action="store_true", help="exit 1 if any schedule failed")

    job_help = "JSON or TOML file naming the experiment and its args (see balloonscript.jobs)"
    r = command("run", "run one experiment of balloonscript.experiments from a job file", _run)
    r.add_argument("job", help=job_help)
    s = command("sweep", "run an experiment over the grid of a job file", _sweep)
    s.add_argument("job", help=job_help + ", with a grid")
    s.add_argument("--workers", type=_at_least(1), default=1, help="worker processes")
    s.add_argument("--quiet", action="store_true", help="no progress bar")

    d = command("demo", "the canonical experiment under each design, side by side; PNGs under --out", _demo)
    d.add_argument("--memory-mib", type=int, default=1024, help="guest memory in MiB")
    d.add_argument("--designs", nargs="+", choices=bs.DESIGNS, default=list(bs.DESIGNS), help="designs to compare")
    d.add_argument("--seed", type=int, default=1, help="seed of the workload")
    d.add_argument("--exiting", type=_fraction, default=0.85, help="share of the workload that exits after inflation")
    d.add_argument("--allocations", type=_at_least(0), default=None,
                   help="order-9 allocation attempts; none given: one per pageblock")
    d.add_argument("--out", default="out", help="folder for the PNGs")
    d.add_argument("--readme-image", default=None,
                   help="also write the page maps after compaction here, and the comparison chart beside it "
                        "(design-comparison.png)")
    return p


def _fail(prog: str, message, status: int) -> int:
    print(f"{prog}: error: {message}", file=sys.stderr)
    return status


def _discard_stdout() -> None:
    """stdout's reader has gone: what is still buffered goes to /dev/null, so that the interpreter's last flush
    reports nothing."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):   # stdout is not a file (captured in this process): nothing is flushed to a pipe
        pass


def main(argv=None) -> int:
    """Run the command line on ``argv`` (default: sys.argv[1:]); returns the exit status: 0; 1 when explore
    --fail-on-finding found a failing schedule, or on an unexpected error; 2 for wrong input; 141 when stdout's reader
    went away."""
    prog = "balloonscript" if os.path.basename(sys.argv[0]) == "balloonscript" else "python -m balloonscript"
    try:
        import balloonscript as bs
        args = build_parser(bs, prog).parse_args(argv)
        vars(args).setdefault("format", "text")   # neither --json nor --csv
        prog = f"{prog} {args.command}"
        status = args.handler(bs, args)
        sys.stdout.flush()   # a closed pipe shows here, not at exit
        return status
    except BrokenPipeError:
        _discard_stdout()
        return 141
    except ValueError as e:   # wrong input: the checks name the argument
        return _fail(prog, e, 2)
    except KeyboardInterrupt:
        return _fail(prog, "interrupted", 130)
    except Exception as e:
        if os.environ.get("BALLOONSCRIPT_TRACEBACK"):
            raise
        return _fail(prog, f"{type(e).__name__}: {e} (BALLOONSCRIPT_TRACEBACK=1 shows where)", 1)
