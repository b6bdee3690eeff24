"""Race exploration: run many schedules of a race on the simulated CPUs and collect the ones whose run produced a
sanitizer finding. A race is a preset by name or one written from a prepared simulation:

    res = bs.explore("deflate-vs-isolate", design="legacy", strategy="pct", schedules=1000, seed=7)
    race = sim.race(cpu0=[bs.op.deflate(pages=16)], cpu1=[bs.op.compact(mode="async")])
    res = race.explore(strategy="dfs", depth=2, schedules=100_000)
    res.schedules, res.failing, res.failing_by_kind
    res.first_failure.reports, res.first_failure.trace     # the interleaving, step by step
    res.failure(i)                                         # any failing schedule, replayed in full
    res.groups[0].minimal()                                # the group's schedule with the fewest preemptions
    run.replay(); run.to_chrome_trace("t.json"); print(run.to_text())

The engine runs the schedules, each from the race's prepared state (restored, not rebuilt); Python asks for them in
chunks to show a progress bar, and with ``client=`` a dask.distributed cluster runs the chunks. Ctrl-C stops an
exploration within about 0.2 s (KeyboardInterrupt), even inside a chunk or a single dfs search.
"""
from __future__ import annotations

import re
import sys
import time
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from . import traces
from ._convert import INT32, System, as_int, as_str, bindings, interruptible, net_errors, np_copy, strs
from ._progress import progress as _progress_bar
from .op import Op
from .simulation import Report

if TYPE_CHECKING:
    import pandas as pd

PyExplore = bindings.PyExplore

with net_errors():
    STRATEGIES = tuple(strs(PyExplore.Strategies()))


def scenarios() -> list[str]:
    """Names of the preset races bs.explore can run."""
    with net_errors():
        return strs(PyExplore.Scenarios())


@dataclass
class ScheduleRun:
    """One schedule: the decisions that make it (``choices``), the preemption points passed (``trace``:
    a DataFrame with step, cpu, task, point), the findings, how many preemptions it took and what failed
    (``signature``: each report's kind and innermost functions)."""
    index: int
    choices: list
    trace: pd.DataFrame
    reports: list
    deadlock: str | None
    metrics_before: dict = field(default_factory=dict)
    metrics_after: dict = field(default_factory=dict)
    preemptions: int = 0
    signature: str = ""
    _net: object = field(repr=False, default=None)
    _race: object = field(repr=False, default=None)

    @property
    def metrics(self) -> dict:
        """How much each scenario metric grew during the run (balloon_migrate, free_order9_blocks, ...)."""
        return {k: self.metrics_after[k] - self.metrics_before[k] for k in self.metrics_after}

    @classmethod
    def _from_net(cls, r, race=None) -> "ScheduleRun":
        import pandas as pd   # here, not at import: `import balloonscript` (a CLI usage error, a worker) skips it
        trace = pd.DataFrame({
            "step": np_copy(r.TraceStep, "int64"),
            "cpu": np_copy(r.TraceCpu, "int32"),
            "task": strs(r.TraceTask),
            "point": strs(r.TracePoint),
        })
        names = strs(PyExplore.MetricNames())
        before = dict(zip(names, (int(v) for v in np_copy(r.MetricsBefore, "int64"))))
        after = dict(zip(names, (int(v) for v in np_copy(r.MetricsAfter, "int64"))))
        return cls(int(r.Index), [int(c) for c in np_copy(r.Choices, "int32")], trace,
                   [Report._from_net(x) for x in r.Reports], str(r.Deadlock) if r.Deadlock else None,
                   before, after, int(r.Preemptions), str(r.Signature), r, race)

    def replay(self) -> "ScheduleRun":
        """Run this schedule again with the same decisions; the result is identical."""
        with net_errors():
            return ScheduleRun._from_net(self._net.Replay(), self._race)

    def minimize(self) -> "ScheduleRun":
        """This failing schedule with every preemption taken out that it can do without and still fail the same way
        (same ``signature``); returns the shorter ScheduleRun (no single preemption can be removed from it)."""
        return self._race._minimize(self.index, self.choices)

    def to_chrome_trace(self, path, title: str = "BalloonScript race"):
        """Write this schedule as Chrome trace-event JSON (Perfetto, chrome://tracing): a track per CPU, a slice per
        preemption point, each report an instant event; returns the path."""
        return traces.write_chrome_trace(self, path, title)

    def to_text(self) -> str:
        """This schedule as text: one line per preemption point, then the reports."""
        return traces.text(self)


@dataclass(frozen=True)
class FailureRecord:
    """One failing schedule as an exploration keeps it: its index, the decisions that replay it (``choices``, kept as
    ``choice_runs``: task id and count of each stretch of equal decisions, so a long race with a few preemptions costs a
    few numbers, not one per decision), its preemptions, what failed (``signature``) and the report kinds."""
    index: int
    choice_runs: tuple
    preemptions: int
    signature: str
    kinds: tuple

    @property
    def choices(self) -> tuple:
        """The decisions, one task id each (what a replay feeds back)."""
        runs = self.choice_runs
        return tuple(task for k in range(0, len(runs), 2) for task in [runs[k]] * runs[k + 1])


@dataclass
class FailureGroup:
    """Failing schedules that failed the same way (one ``signature``): how many, which (``indices``), and the one
    with the fewest preemptions (``fewest``); ``minimal()`` minimises that one."""
    signature: str
    indices: list
    fewest: FailureRecord
    _race: object = field(repr=False, default=None)

    @property
    def count(self) -> int:
        return len(self.indices)

    def minimal(self) -> ScheduleRun:
        """The group's fewest-preemption schedule, minimised (``ScheduleRun.minimize``): a smallest interleaving that
        fails this way."""
        return self._race._minimize(self.fewest.index, list(self.fewest.choices))


@dataclass
class ExploreResult:
    """What an exploration returns: schedules run, how many failed (per report kind, and which), every failing
    schedule (``failures``, replayed in full by ``failure(i)``, grouped by what failed in ``groups``), the first one
    in full (None if none failed) and, for dfs, whether the search was exhaustive and, if not, how many schedules
    within the bound it left, at least (``schedules_left``; None for the other strategies)."""
    scenario: str
    design: str
    strategy: str
    schedules: int
    failing: int
    failing_by_kind: dict
    failing_indices: list
    first_failure: ScheduleRun | None
    exhausted: bool = False   # dfs: every schedule within the preemption bound was run
    failures: list = field(default_factory=list, repr=False)
    schedules_left: int | None = None
    _race: object = field(repr=False, default=None)
    reduction: str = "none"   # dfs: "sleep-sets" = partial-order reduction
    pruned_runs: int = 0      # reduction: runs cut short as equivalent to one explored (not in schedules)
    skipped_options: int = 0  # reduction: search options never tried (their path was asleep)

    @property
    def groups(self) -> list[FailureGroup]:
        """The failures grouped by signature, largest group first (then by signature)."""
        by_signature: dict = {}
        for f in self.failures:
            by_signature.setdefault(f.signature, []).append(f)
        groups = [FailureGroup(sig, [f.index for f in fs], min(fs, key=lambda f: f.preemptions), self._race)
                  for sig, fs in by_signature.items()]
        return sorted(groups, key=lambda g: (-g.count, g.signature))

    def failure(self, index: int) -> ScheduleRun:
        """Failing schedule ``index`` (one of ``failing_indices``), replayed in full; ValueError if it did not fail."""
        index = as_int("index", index, INT32)
        for f in self.failures:
            if f.index == index:
                return self._race._replay(f.index, list(f.choices))
        shown = ", ".join(str(i) for i in self.failing_indices[:10]) + (", ..." if self.failing > 10 else "")
        raise ValueError(f"index: schedule {index} did not fail (failing: {shown or 'none'})")


# --------------------------------------------------------------------------- races and their recipes

# The races a process has built from recipes (a dask worker keeps them between chunks).
_RACES: dict = {}


def _build(recipe: tuple):
    """The engine race a recipe describes: ("preset", scenario, design, seed) or ("ops", snapshot bytes, cpus,
    op_cpus, kinds, arg_ops, arg_names, arg_values)."""
    with net_errors():
        if recipe[0] == "preset":
            return bindings.PyRace.Preset(*recipe[1:])
        source, *ops = recipe[1:]
        return bindings.PyRace.FromBytes(bytes(source), *ops)


def _explore_chunk(recipe: tuple, strategy: str, schedules: int, seed: int, start: int, depth: int,
                   reduction: str = "none") -> dict:
    """Schedules [start, start + schedules) of the race ``recipe`` describes, as plain data (what a dask worker
    sends back: no .NET object crosses). The race is built once per process and kept."""
    net = _RACES.get(recipe)
    if net is None:
        net = _RACES[recipe] = _build(recipe)
    return _chunk_data(net, strategy, schedules, seed, start, depth, reduction, threads=1)


def _chunk_data(net, strategy, schedules, seed, start, depth, reduction="none", threads=0, ran=None) -> dict:
    """Schedules [start, start + schedules) as plain data; ``ran(n)``, if given, is told every few hundredths of a
    second how many have run so far."""
    cancel = System.Threading.CancellationTokenSource()
    progress = bindings.PyExplore.Progress()
    poll = None if ran is None else lambda: ran(int(progress.Schedules))
    with net_errors():
        r = interruptible(lambda: net.Explore(strategy, schedules, seed, start, depth, reduction, threads, progress, cancel.Token),
                          cancel.Cancel, poll=poll)
    runs = np_copy(r.FailureChoiceRuns, "int32").tolist()
    ends = np.cumsum(np_copy(r.FailureChoiceRunCounts, "int64")).tolist()
    failures = [FailureRecord(int(i), tuple(runs[e - n:e]), int(p), str(sig), tuple(k.split(",")))
                for i, n, e, p, sig, k in zip(np_copy(r.FailingIndices, "int64"), np_copy(r.FailureChoiceRunCounts, "int64"),
                                              ends, np_copy(r.FailurePreemptions, "int64"), strs(r.FailureSignatures),
                                              strs(r.FailureKinds))]
    return {"schedules": int(r.Schedules), "failures": failures, "exhausted": bool(r.Exhausted),
            "schedules_left": None if int(r.SchedulesLeft) < 0 else int(r.SchedulesLeft),
            "pruned_runs": int(r.PrunedRuns), "skipped_options": int(r.SkippedOptions),
            "by_kind": dict(zip(strs(r.FailingKinds), (int(c) for c in np_copy(r.FailingKindCounts, "int64"))))}


class Race:
    """A race ready to explore: what each simulated CPU runs, from a prepared state the engine restores for every
    schedule. Made by ``sim.race(cpu0=[...], cpu1=[...])`` (on a fork: ``sim`` stays as it is) or ``preset(name)``.
    ``tasks`` lists (cpu, kernel path) pairs."""

    def __init__(self, net, name: str, design: str, recipe: tuple | None = None):
        self._net, self.name, self.design = net, name, design
        self._recipe = recipe   # None: built from a simulation; its snapshot is serialised only if a cluster needs it
        self._ops = None
        with net_errors():
            self.tasks = list(zip((int(c) for c in net.TaskCpus), strs(net.TaskNames)))

    def __repr__(self) -> str:
        return f"Race({self.name!r}, design={self.design!r}, tasks={self.tasks!r})"

    def run(self) -> ScheduleRun:
        """One run with every kernel path run to completion, in CPU order (no interleaving)."""
        with net_errors():
            return ScheduleRun._from_net(self._net.Run(), self)

    def recipe(self) -> tuple:
        """What rebuilds this race in another process (a dask worker): the preset's name, design and seed, or the
        simulation's state as bytes and the operations."""
        if self._recipe is None:
            with net_errors():
                self._recipe = ("ops", bytes(self._net.SourceBytes()), *self._ops)
        return self._recipe

    def _replay(self, index: int, choices: list) -> ScheduleRun:
        with net_errors():
            return ScheduleRun._from_net(self._net.Replay(index, choices), self)

    def _minimize(self, index: int, choices: list) -> ScheduleRun:
        with net_errors():
            return ScheduleRun._from_net(self._net.Minimize(index, choices), self)

    def explore(self, strategy: str = "random", schedules: int = 1000, seed: int = 0, depth: int = 3,
                progress: bool = True, chunk: int | None = None, client=None, reduction: str = "none",
                threads: int | None = None) -> ExploreResult:
        """Explore ``schedules`` interleavings with ``strategy``: random, pct (bug depth ``depth``), roundrobin, or dfs
        (every schedule with at most ``depth`` preemptions, depth first, up to ``schedules`` of them; ``exhausted``
        tells whether that covered them all, and a warning says so when it did not). Deterministic for a seed;
        schedule i is the same whatever the chunking. The engine runs ``chunk`` schedules per call (None: as many as
        take about a tenth of a second, so the progress bar moves and the calls cost nothing). With ``client`` (a
        dask.distributed Client) the chunks (of 50 unless given) run on its workers, one thread each, each worker
        building the race once from ``recipe()``; the result equals a serial run's (dfs, one search, runs here; its
        progress bar moves as the search goes). ``reduction="sleep-sets"`` (dfs only) adds partial-order reduction:
        still every failure within the bound, in fewer schedules (``pruned_runs``, ``skipped_options`` say what it left
        out). A dfs search
        of bound 2 or more, and the other strategies, run on ``threads`` host CPUs (None: every CPU this
        process may use; 1: one): one search per CPU, each with a copy of the race; random and roundrobin runs made on
        OS threads (a race measures whether its runs go faster as continuations on one thread or on threads), while
        other processes leave the CPUs idle, one search per as many CPUs as the race has simulated CPUs, each simulated
        CPU on a host CPU of its own. The result is the same whatever the number."""
        strategy = as_str("strategy", strategy)
        schedules = as_int("schedules", schedules, (1, 1_000_000))
        seed = as_int("seed", seed)
        depth = as_int("depth", depth, (0, 10))
        chunk = None if chunk is None else as_int("chunk", chunk, (1, 1_000_000))
        reduction = as_str("reduction", reduction)
        threads = 0 if threads is None else as_int("threads", threads, (1, 1024))
        if strategy == "dfs":
            chunk = schedules   # depth first: one search, not independent schedules
        bar = None
        if progress:
            bar = _progress_bar(total=schedules, desc=f"{self.name} [{self.design}, {strategy}]", unit="schedule", leave=False)
        parts = []
        shown = 0

        def show(done):
            nonlocal shown
            if bar is not None and done > shown:
                bar.update(done - shown)
                shown = done

        try:
            if client is not None and strategy != "dfs":
                step = chunk or 50
                ranges = [(start, min(step, schedules - start)) for start in range(0, schedules, step)]
                recipe = client.scatter(self.recipe(), broadcast=True)   # sent to each worker once
                futures = client.map(_explore_chunk, [recipe] * len(ranges), [strategy] * len(ranges),
                                     [n for _, n in ranges], [seed] * len(ranges), [s for s, _ in ranges],
                                     [depth] * len(ranges), [reduction] * len(ranges), pure=False)
                chunks = (f.result() for f in futures)
            else:
                chunks = self._chunks(strategy, schedules, seed, depth, reduction, threads, chunk, show if progress else None)
            for part in chunks:
                parts.append(part)
                if bar is not None:
                    if strategy == "dfs":
                        bar.total = part["schedules"]   # the search may end before the maximum
                    show(sum(p["schedules"] for p in parts))
                    bar.set_postfix(failing=sum(len(p["failures"]) for p in parts))
        finally:
            if bar is not None:
                bar.close()
        return self._merge(strategy, depth, parts, reduction)

    def _chunks(self, strategy, schedules, seed, depth, reduction, threads, chunk, show=None):
        """The exploration here, chunk by chunk; without a chunk size the chunks double until one takes a tenth of a
        second. ``show(n)`` is told while a chunk runs how many schedules of the exploration have run (a dfs search is
        one chunk)."""
        start, size = 0, chunk or 64
        while start < schedules:
            n = min(size, schedules - start)
            began = time.perf_counter()
            ran = None if show is None else (lambda k, before=start, most=n: show(before + min(k, most)))
            yield _chunk_data(self._net, strategy, n, seed, start, depth, reduction, threads, ran)
            start += n
            if chunk is None and time.perf_counter() - began < 0.1:
                size *= 2

    def _merge(self, strategy: str, depth: int, parts: list, reduction: str = "none") -> ExploreResult:
        failures = [f for p in parts for f in p["failures"]]
        by_kind: dict = {}
        for p in parts:
            for kind, count in p["by_kind"].items():
                by_kind[kind] = by_kind.get(kind, 0) + count
        first = self._replay(failures[0].index, list(failures[0].choices)) if failures else None
        last = parts[-1]
        res = ExploreResult(self.name, self.design, strategy, sum(p["schedules"] for p in parts), len(failures),
                            dict(sorted(by_kind.items())), [f.index for f in failures], first, last["exhausted"],
                            failures, last["schedules_left"], self, reduction,
                            sum(p["pruned_runs"] for p in parts), sum(p["skipped_options"] for p in parts))
        if strategy == "dfs" and not res.exhausted:
            warnings.warn(f"dfs stopped after {res.schedules} schedules with at least {res.schedules_left} more within "
                          f"depth {depth}: the search is not exhaustive (raise schedules= to cover them)",
                          RuntimeWarning, stacklevel=_caller_level())
        return res


def preset(scenario: str, design: str = "legacy", seed: int = 0) -> Race:
    """The preset race ``scenario`` (one of ``scenarios()``) in ``design``, on a fresh guest seeded with ``seed``."""
    recipe = ("preset", as_str("scenario", scenario), as_str("design", design), as_int("seed", seed))
    return Race(_build(recipe), scenario, design, recipe)


def race(sim, cpus: dict) -> Race:
    """The race ``sim.race(cpu0=[...], ...)`` builds: ``cpus`` maps "cpuN" to a list of bs.op operations."""
    names, op_cpus, kinds, arg_ops, arg_names, arg_values = [], [], [], [], [], []
    for key, ops in cpus.items():
        m = re.fullmatch(r"cpu(\d+)", key)
        if m is None:
            raise ValueError(f"{key}: a race takes one list of operations per CPU, as cpu0=[...], cpu1=[...]")
        if not isinstance(ops, (list, tuple)) or not all(isinstance(o, Op) for o in ops):
            raise ValueError(f"{key} must be a list of bs.op operations, got {ops!r}")
        cpu = as_int(key, int(m.group(1)), INT32)
        names.append(cpu)
        for o in ops:
            for name, value in o._net_args():
                arg_ops.append(len(kinds))
                arg_names.append(name)
                arg_values.append(value)
            op_cpus.append(cpu)
            kinds.append(o.kind)
    ops = tuple(tuple(x) for x in (names, op_cpus, kinds, arg_ops, arg_names, arg_values))
    with sim._lock, net_errors():   # the fork is taken from one moment of sim
        net = bindings.PyRace.Create(sim.net, *(list(x) for x in ops))
    made = Race(net, "race", sim.design)
    made._ops = ops
    return made


def run_scenario(scenario: str, design: str = "legacy", seed: int = 0) -> ScheduleRun:
    """One run of the preset ``scenario`` with its kernel paths run to completion in order (no interleaving): the
    deterministic defects (migrate-twice, isolate-without-lru-lock) are measured this way."""
    return preset(scenario, design, seed).run()



def enable_partial_order_reduction() -> bool:
    """Allow ``reduction="sleep-sets"`` in this process. Its recording sits on every page, list-link and lock access,
    so it is compiled in only when this runs before the process's first simulation (simulations that never reduce pay
    nothing). Returns whether reduction is available: False if a simulation ran first (start a new process)."""
    return bool(bindings.PyExplore.EnablePartialOrderReduction())


def _caller_level() -> int:
    """The ``stacklevel`` of a warning issued by this helper's caller that puts it at the first line outside this module:
    the user's ``race.explore(...)`` or ``bs.explore(...)``, however many of this module's frames lie between."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_globals.get("__name__") == __name__:
        frame, level = frame.f_back, level + 1
    return level


def explore(scenario: str, design: str = "legacy", strategy: str = "random", schedules: int = 1000,
            seed: int = 0, depth: int = 3, progress: bool = True, chunk: int | None = None, client=None,
            reduction: str = "none", threads: int | None = None) -> ExploreResult:
    """Explore ``schedules`` interleavings of the preset ``scenario`` in ``design`` (its guest seeded with ``seed``)
    with ``strategy``; see ``Race.explore`` (``client``: a dask.distributed Client to run the chunks on)."""
    return preset(scenario, design, seed).explore(strategy, schedules, seed, depth, progress, chunk, client, reduction, threads)
