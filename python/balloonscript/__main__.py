"""Command line: ``python -m balloonscript {scenarios, explore, demo} ...``.

    python -m balloonscript scenarios
    python -m balloonscript explore deflate-vs-isolate --design legacy --strategy dfs --depth 2
    python -m balloonscript demo --out out
"""
from __future__ import annotations

import argparse
import sys


def _explore(args) -> int:
    import balloonscript as bs
    res = bs.explore(args.scenario, design=args.design, strategy=args.strategy, schedules=args.schedules,
                     seed=args.seed, depth=args.depth, progress=not args.quiet)
    print(f"{res.scenario} [{res.design}, {res.strategy}]: {res.failing} of {res.schedules} schedules failed"
          + (" (every schedule within the bound)" if res.exhausted else ""))
    for kind, n in res.failing_by_kind.items():
        print(f"  {kind}: {n}")
    if res.first_failure is not None:
        run = res.first_failure
        print(f"first failing schedule: {run.index}")
        for report in run.reports:
            print(report)
        if args.trace:
            print(run.trace.to_string(index=False))
    return 1 if args.fail_on_finding and res.failing else 0


def main(argv=None) -> int:
    """The command line (scenarios | explore); returns the exit status: 0, 1 when --fail-on-finding found one."""
    p = argparse.ArgumentParser(prog="python -m balloonscript", description="BalloonScript: balloon compaction simulator")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("scenarios", help="list the scenarios explore can run")
    e = sub.add_parser("explore", help="explore interleavings of a scenario")
    e.add_argument("scenario")
    e.add_argument("--design", default="legacy", help="legacy, redesign or fixed")
    e.add_argument("--strategy", default="random", help="random, pct, roundrobin or dfs")
    e.add_argument("--schedules", type=int, default=1000)
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--depth", type=int, default=3, help="pct bug depth, or dfs preemption bound")
    e.add_argument("--trace", action="store_true", help="print the first failing schedule's preemption points")
    e.add_argument("--quiet", action="store_true", help="no progress bar")
    e.add_argument("--fail-on-finding", action="store_true", help="exit 1 if any schedule failed")
    sub.add_parser("demo", help="the canonical experiment (see python -m balloonscript.demo --help)", add_help=False)
    args, rest = p.parse_known_args(argv)
    if args.command == "demo":
        from .demo import main as demo
        return demo(rest)
    if rest:
        p.error(f"unrecognized arguments: {' '.join(rest)}")
    try:
        if args.command == "scenarios":
            import balloonscript as bs
            print("\n".join(bs.scenarios()))
            return 0
        return _explore(args)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
