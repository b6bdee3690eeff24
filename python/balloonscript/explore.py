"""Race exploration: run many schedules of a named scenario on the simulated CPUs and collect the ones
whose run produced a sanitizer finding.

    res = bs.explore("deflate-vs-isolate", design="legacy", strategy="pct", schedules=1000, seed=7)
    res.schedules, res.failing, res.failing_by_kind
    res.first_failure.reports, res.first_failure.trace     # the interleaving, step by step
    res.first_failure.replay()                             # the same run again, decision for decision

The engine runs the schedules; Python asks for them in chunks only to show a progress bar. Ctrl-C stops an
exploration within about 0.2 s (KeyboardInterrupt), even inside a chunk or a single dfs search.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ._convert import System, as_int, as_str, bindings, interruptible, net_errors, np_copy, strs
from ._progress import progress as _progress_bar
from .simulation import Report

PyExplore = bindings.PyExplore

with net_errors():
    STRATEGIES = tuple(strs(PyExplore.Strategies()))


def scenarios() -> list[str]:
    """Names of the scenarios bs.explore can run."""
    with net_errors():
        return strs(PyExplore.Scenarios())


@dataclass
class ScheduleRun:
    """One schedule: the decisions that make it (``choices``), the preemption points passed (``trace``:
    a DataFrame with step, cpu, task, point) and the findings."""
    index: int
    choices: list
    trace: pd.DataFrame
    reports: list
    deadlock: str | None
    metrics_before: dict = field(default_factory=dict)
    metrics_after: dict = field(default_factory=dict)
    _net: object = field(repr=False, default=None)

    @property
    def metrics(self) -> dict:
        """How much each scenario metric grew during the run (balloon_migrate, free_order9_blocks, ...)."""
        return {k: self.metrics_after[k] - self.metrics_before[k] for k in self.metrics_after}

    @classmethod
    def _from_net(cls, r) -> "ScheduleRun":
        trace = pd.DataFrame({
            "step": np_copy(r.TraceStep, "int64"),
            "cpu": np_copy(r.TraceCpu, "int32"),
            "task": strs(r.TraceTask),
            "point": strs(r.TracePoint),
        })
        names = strs(PyExplore.MetricNames())
        before = dict(zip(names, (int(v) for v in np_copy(r.MetricsBefore, "int64"))))
        after = dict(zip(names, (int(v) for v in np_copy(r.MetricsAfter, "int64"))))
        return cls(int(r.Index), list(np_copy(r.Choices, "int32")), trace,
                   [Report._from_net(x) for x in r.Reports], str(r.Deadlock) if r.Deadlock else None,
                   before, after, r)

    def replay(self) -> "ScheduleRun":
        """Run this schedule again with the same decisions; the result is identical."""
        with net_errors():
            return ScheduleRun._from_net(self._net.Replay())


def run_scenario(scenario: str, design: str = "legacy", seed: int = 0) -> ScheduleRun:
    """One run of ``scenario`` with its kernel paths run to completion in order (no interleaving): the
    deterministic defects (migrate-twice, isolate-without-lru-lock) are measured this way."""
    scenario = as_str("scenario", scenario)
    design = as_str("design", design)
    seed = as_int("seed", seed)
    with net_errors():
        return ScheduleRun._from_net(PyExplore.Run(scenario, design, seed))


@dataclass
class ExploreResult:
    """What bs.explore returns: schedules run, how many failed (per report kind, and which), the first failing
    schedule (a ScheduleRun to replay or plot, None if none failed) and, for dfs, whether the search was exhaustive."""
    scenario: str
    design: str
    strategy: str
    schedules: int
    failing: int
    failing_by_kind: dict
    failing_indices: list
    first_failure: ScheduleRun | None
    exhausted: bool = False   # dfs: every schedule within the preemption bound was run


def explore(scenario: str, design: str = "legacy", strategy: str = "random", schedules: int = 1000,
            seed: int = 0, depth: int = 3, progress: bool = True, chunk: int = 50) -> ExploreResult:
    """Explore ``schedules`` interleavings of ``scenario`` in ``design`` with ``strategy``: random, pct (bug
    depth ``depth``), roundrobin, or dfs (every schedule with at most ``depth`` preemptions, depth first, up to
    ``schedules`` of them; ``exhausted`` tells whether that covered them all). Deterministic for a seed;
    schedule i is the same whatever the chunking (dfs runs as one chunk). Ctrl-C raises KeyboardInterrupt within
    about 0.2 s."""
    scenario = as_str("scenario", scenario)
    design = as_str("design", design)
    strategy = as_str("strategy", strategy)
    schedules = as_int("schedules", schedules, (1, 1_000_000))
    seed = as_int("seed", seed)
    depth = as_int("depth", depth, (0, 10))
    chunk = as_int("chunk", chunk, (1, 1_000_000))
    bar = None
    if progress:
        bar = _progress_bar(total=schedules, desc=f"{scenario} [{design}, {strategy}]", unit="schedule", leave=False)
    failing, by_kind, indices, first, exhausted = 0, {}, [], None, False
    if strategy == "dfs":
        chunk = schedules   # depth first: one search, not independent schedules
    try:
        for start in range(0, schedules, chunk):
            n = min(chunk, schedules - start)
            cancel = System.Threading.CancellationTokenSource()
            with net_errors():
                r = interruptible(lambda: PyExplore.Explore(scenario, design, strategy, n, seed, start, depth, cancel.Token),
                                  cancel.Cancel)
            failing += int(r.Failing)
            for kind, count in zip(strs(r.FailingKinds), np_copy(r.FailingKindCounts, "int64")):
                by_kind[kind] = by_kind.get(kind, 0) + int(count)
            indices.extend(int(i) for i in np_copy(r.FailingIndices, "int64"))
            if first is None and r.FirstFailure is not None:
                first = ScheduleRun._from_net(r.FirstFailure)
            exhausted = bool(r.Exhausted)
            if bar is not None:
                if strategy == "dfs":
                    bar.total = n = int(r.Schedules)   # the search may end before the maximum
                bar.update(n)
                bar.set_postfix(failing=failing)
    finally:
        if bar is not None:
            bar.close()
    ran = int(r.Schedules) if strategy == "dfs" else schedules
    return ExploreResult(scenario, design, strategy, ran, failing, dict(sorted(by_kind.items())), indices, first, exhausted)
