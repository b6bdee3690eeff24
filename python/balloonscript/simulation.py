"""The Pythonic face of BalloonScript.Bindings.PySimulation.

Deliberately thin: every number comes from the C# engine. This module converts types (bulk .NET arrays
to numpy through the buffer protocol, strings, small result objects) with the helpers of ``_convert``, checks
argument *types*, and turns .NET ArgumentException into ValueError. Ranges, defaults and semantics are the
engine's: the option defaults, the design list and the kernel constants are read from it.
"""
from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field

import numpy as np

from ._convert import (INT32, as_bool, as_int, as_real, as_str, bindings, call, member, net_errors, np_copy,
                       pascal, strs)

PySimulation = bindings.PySimulation


# --------------------------------------------------------------------------- what the engine serves

with net_errors():   # the engine's own lists and constants, so the two sides cannot drift apart
    REPORT_KINDS = tuple(strs(PySimulation.ReportKindNames()))
    FREE_PATTERNS = tuple(strs(PySimulation.FreePatterns()))
    _CONSTANTS = dict(zip(strs(PySimulation.ConstantNames()), (int(v) for v in PySimulation.ConstantValues())))
    _OPTION_NAMES = tuple(strs(bindings.PyOptions.Names()))
    _DEFAULTS = {name: getattr(bindings.PyOptions(), pascal(name)) for name in _OPTION_NAMES}
    _DEFAULTS = {k: (str(v) if isinstance(v, str) else v) for k, v in _DEFAULTS.items()}

MAX_ORDER = _CONSTANTS["max_order"]               # orders 0..MAX_ORDER-1, as the kernel's MAX_ORDER
PAGEBLOCK_ORDER = _CONSTANTS["pageblock_order"]   # pageblock_order: 2 MiB pageblocks
PAGE_SIZE = _CONSTANTS["page_size"]
PAGES_PER_MIB = _CONSTANTS["pages_per_mib"]


@dataclass(frozen=True)
class Design:
    """A kernel design: its name, the kernel it models, the commit its balloon code comes from, a summary, and
    the version of each kernel part it is composed of (``parts``: part name -> version)."""
    name: str
    kernel: str
    commit: str
    summary: str
    parts: dict = field(default_factory=dict)


def designs() -> list[Design]:
    """The kernel designs a Simulation can be built for, in the engine's order."""
    d = bindings.PyDesigns
    with net_errors():
        part_names = strs(d.PartNames())
        return [Design(n, k, c, s, dict(zip(part_names, strs(d.PartVersions(n)))))
                for n, k, c, s in zip(strs(d.Names()), strs(d.Kernels()), strs(d.Commits()), strs(d.Summaries()))]


DESIGNS = tuple(d.name for d in designs())


def _order(order) -> int:
    return as_int("order", order, INT32)


# --------------------------------------------------------------------------- PageKind

def _identifier(name: str) -> str:
    ident = re.sub(r"\W", "_", name.strip()).lower()
    return ident if ident and not ident[0].isdigit() else f"k_{ident}"


with net_errors():
    PageKind = enum.IntEnum("PageKind", {_identifier(n): i for i, n in enumerate(strs(PySimulation.PageKindNames()))},
                            module=__name__)
PageKind.__doc__ = "Kind of a physical page as the engine reports it in page_map(); built from PageKindNames()."


# --------------------------------------------------------------------------- small result types

@dataclass(frozen=True)
class CompactResult:
    """Outcome of one full compaction run (all zones)."""
    migrated: int
    failed: int
    isolated: int
    migrate_scanned: int
    free_scanned: int
    zones: dict = field(default_factory=dict)   # zone name -> outcome (e.g. "complete", "skipped")

    @classmethod
    def _from_net(cls, r) -> "CompactResult":
        return cls(int(r.Migrated), int(r.Failed), int(r.Isolated), int(r.MigrateScanned), int(r.FreeScanned),
                   dict(zip(strs(r.ZoneNames), strs(r.ZoneOutcomes))))


@dataclass(frozen=True)
class Report:
    """One sanitizer finding; ``kind`` is one of REPORT_KINDS ("kasan", "list_corruption", "bad_page",
    "page_leak", "balloon_unmovable", "host_mismatch", "vm_bug", "data_corruption", "accounting",
    "isolated_pages")."""
    kind: str
    pfn: int
    message: str
    trace: tuple = ()   # simulated kernel functions, outermost first
    cpu: int = 0
    step: int = 0

    @classmethod
    def _from_net(cls, r) -> "Report":
        return cls(str(r.Kind), int(r.Pfn), str(r.Message), tuple(strs(r.Trace)), int(r.Cpu), int(r.Step))

    def __str__(self) -> str:
        head = f"[{self.kind}] pfn {self.pfn:#x} cpu {self.cpu} step {self.step}: {self.message}"
        return "\n".join([head] + [f"    {fn}" for fn in self.trace])


# --------------------------------------------------------------------------- the simulation

class _Part:
    __slots__ = ("_sim",)

    def __init__(self, sim: "Simulation"):
        self._sim = sim


class Workload(_Part):
    """Populate and fragment memory: ``sim.workload.anon(mib=...)`` etc. Each returns a page count."""

    def anon(self, mib) -> int:
        """Anonymous pages mapped by a process; returns pages allocated."""
        mib = as_real("mib", mib)
        return int(call(self._sim._net, "WorkloadAnon", mib))

    def file(self, mib) -> int:
        """Page-cache pages; returns pages allocated."""
        mib = as_real("mib", mib)
        return int(call(self._sim._net, "WorkloadFile", mib))

    def slab(self, mib) -> int:
        """Unmovable kernel (slab) pages; returns pages allocated."""
        mib = as_real("mib", mib)
        return int(call(self._sim._net, "WorkloadSlab", mib))

    def free(self, fraction, pattern: str = "interleave", seed=0) -> int:
        """Free ``fraction`` of the workload's pages in a pattern (interleave | random); returns pages freed."""
        fraction = as_real("fraction", fraction)
        pattern = as_str("pattern", pattern)
        seed = as_int("seed", seed)
        return int(call(self._sim._net, "WorkloadFree", fraction, pattern, seed))


class Balloon(_Part):
    """The virtio balloon, guest side."""

    def inflate(self, mib) -> int:
        """Fill the balloon; returns pages inflated."""
        mib = as_real("mib", mib)
        return int(call(self._sim._net, "BalloonInflate", mib))

    def deflate(self, mib) -> int:
        """Leak pages from the balloon; returns pages deflated."""
        mib = as_real("mib", mib)
        return int(call(self._sim._net, "BalloonDeflate", mib))

    @property
    def pages(self) -> int:
        """Pages in the balloon (guest view)."""
        return int(member(self._sim._net, "BalloonPages"))


class Host(_Part):
    """The hypervisor's side of the balloon."""

    @property
    def ballooned_pages(self) -> int:
        """Pages the host believes are ballooned (its own ledger)."""
        return int(member(self._sim._net, "HostBallooned"))


class Snapshot:
    """The whole state of a Simulation at one moment (``sim.snapshot()``): restore it with ``sim.restore(snap)`` into
    that simulation or any fork of it, as often as wanted. Opaque; ``clock_ms`` and ``ops`` say when it was taken."""
    __slots__ = ("_net", "clock_ms", "ops")

    def __init__(self, net, clock_ms: float, ops: int):
        self._net, self.clock_ms, self.ops = net, clock_ms, ops

    def __repr__(self) -> str:
        return f"Snapshot(clock_ms={self.clock_ms}, ops={self.ops})"


class Simulation:
    """A simulated guest. ``Simulation(memory_mib=4096, design="legacy", cpus=2, seed=1)``.

    design: one of DESIGNS (see ``designs()``): legacy (v3.8-v3.17), redesign (d6d86c0, v3.18), fixed (v4.5).
    per_cpu_lists: model the v3.16 per-cpu page lists in front of the buddy lists.
    check_accounting: run the whole-memory page-state checks after every operation.
    hz: CONFIG_HZ, the timer tick (100, 250, 300 or 1000); timeslice_ms: CPU time a kernel path runs before the tick
    sets need_resched (0 = never).
    Every default is the engine's (SimulationOptions).
    """

    def __init__(self, memory_mib: int = _DEFAULTS["memory_mib"], design: str = _DEFAULTS["design"],
                 cpus: int = _DEFAULTS["cpus"], seed: int = _DEFAULTS["seed"], *,
                 per_cpu_lists: bool = _DEFAULTS["per_cpu_lists"], check_accounting: bool = _DEFAULTS["check_accounting"],
                 hz: int = _DEFAULTS["hz"], timeslice_ms: float = _DEFAULTS["timeslice_ms"]):
        options = {"memory_mib": as_int("memory_mib", memory_mib), "design": as_str("design", design),
                   "cpus": as_int("cpus", cpus, INT32), "seed": as_int("seed", seed),
                   "per_cpu_lists": as_bool("per_cpu_lists", per_cpu_lists),
                   "check_accounting": as_bool("check_accounting", check_accounting),
                   "hz": as_int("hz", hz, INT32), "timeslice_ms": as_real("timeslice_ms", timeslice_ms)}
        net_options = bindings.PyOptions()
        for name, value in options.items():
            setattr(net_options, pascal(name), value)
        with net_errors():
            self._attach(PySimulation.Create(net_options), options)

    def _attach(self, net, options: dict) -> None:
        self._net = net
        self.options = dict(options)
        self.memory_mib, self.design, self.cpus, self.seed = (options[k] for k in ("memory_mib", "design", "cpus", "seed"))
        self.per_cpu_lists = options["per_cpu_lists"]
        self.workload = Workload(self)
        self.balloon = Balloon(self)
        self.host = Host(self)

    def __repr__(self) -> str:
        return "Simulation(" + ", ".join(f"{k}={v!r}" for k, v in self.options.items()) + ")"

    @property
    def net(self):
        """Returns the underlying BalloonScript.Bindings.PySimulation (for what this layer does not wrap)."""
        return self._net

    # -- snapshots
    def snapshot(self) -> Snapshot:
        """A copy of the whole guest as it is now (page state, lists, zones, counters, mappings, balloon, host, driver,
        clock and timers, reports, history); returns a Snapshot for ``restore``."""
        return Snapshot(call(self._net, "Snapshot"), self.clock_ms, len(strs(call(self._net, "HistoryOps"))))

    def restore(self, snapshot: Snapshot) -> None:
        """Put the guest back to ``snapshot`` bit for bit. It must come from this simulation or a fork of it (same
        options); otherwise ValueError and nothing changes."""
        if not isinstance(snapshot, Snapshot):
            raise ValueError(f"snapshot must be a Snapshot from sim.snapshot(), got {snapshot!r}")
        call(self._net, "Restore", snapshot._net)

    def fork(self) -> "Simulation":
        """An independent copy of this simulation (same design and options, same state); returns a new Simulation.
        What either does afterwards leaves the other unchanged."""
        child = Simulation.__new__(Simulation)
        child._attach(call(self._net, "Fork"), self.options)
        return child

    # -- races
    def race(self, **cpus):
        """A race from this simulation's state: what each simulated CPU runs, as lists of ``bs.op`` operations, e.g.
        ``sim.race(cpu0=[bs.op.deflate(pages=16)], cpu1=[bs.op.compact(mode="async")])``. Built on a fork, so this
        simulation stays as it is; operations are checked and bound CPU by CPU, in order (``migrate`` isolates its page
        and takes a target now). Returns a Race to ``explore()`` or ``run()``. Bad input (an operation the design does
        not have, a CPU the simulation does not have, an empty list, more CPUs than it has) is a ValueError."""
        from .explore import race
        return race(self, cpus)

    # -- time
    @property
    def clock_ms(self) -> float:
        """Simulated time since boot, in milliseconds."""
        return float(member(self._net, "ClockMs"))

    def run(self, ms) -> float:
        """Let ``ms`` milliseconds of simulated time pass (kswapd, the balloon's work and other timers run on it);
        returns the clock afterwards, in ms."""
        ms = as_real("ms", ms)
        return float(call(self._net, "Run", ms))

    # -- actions
    def compact(self) -> CompactResult:
        """Full compaction of every zone, like writing 1 to /proc/sys/vm/compact_memory."""
        return CompactResult._from_net(call(self._net, "Compact"))

    def allocate(self, order, count=1) -> int:
        """``count`` high-order allocation attempts (with direct compaction); returns successes."""
        order = _order(order)
        count = as_int("count", count)
        return int(call(self._net, "Allocate", order, count))

    # -- metrics
    def vmstat(self) -> dict:
        """/proc/vmstat as a dict, kernel names -> int."""
        names = strs(call(self._net, "VmstatNames"))
        values = np_copy(call(self._net, "VmstatValues"), np.int64)
        return dict(zip(names, values.tolist()))

    def buddyinfo(self) -> str:
        """/proc/buddyinfo, exactly the kernel's text."""
        return str(call(self._net, "Buddyinfo"))

    def pagetypeinfo(self) -> str:
        """/proc/pagetypeinfo, exactly the kernel's text."""
        return str(call(self._net, "Pagetypeinfo"))

    def free_blocks(self) -> np.ndarray:
        """Free blocks per order 0..10, summed over zones (numpy int64)."""
        return np_copy(call(self._net, "FreeBlocks"), np.int64)

    def extfrag_index(self, order) -> float:
        """debugfs extfrag_index of the largest zone for ``order``; returns it as printed, a float (-1.0 = a
        suitable block exists)."""
        order = _order(order)
        return int(call(self._net, "ExtfragIndex", order)) / 1000.0

    def unusable_index(self, order) -> float:
        """debugfs unusable_index of the largest zone for ``order``; returns a float in [0, 1]."""
        order = _order(order)
        return int(call(self._net, "UnusableIndex", order)) / 1000.0

    def extfrag_text(self) -> str:
        """debugfs extfrag/extfrag_index, the kernel's text (all zones and orders)."""
        return str(call(self._net, "ExtfragText"))

    def unusable_text(self) -> str:
        """debugfs extfrag/unusable_index, the kernel's text."""
        return str(call(self._net, "UnusableText"))

    def page_map(self) -> np.ndarray:
        """PageKind of every pfn (numpy uint8, length memory_mib * 256)."""
        return np_copy(call(self._net, "PageMap"), np.uint8)

    def reports(self) -> list:
        """Sanitizer findings so far; returns a list of Report, oldest first."""
        return [Report._from_net(r) for r in call(self._net, "Reports")]

    def history(self):
        """Metrics recorded per step; returns a pandas DataFrame, one row per step, the op column first."""
        import pandas as pd
        columns = strs(call(self._net, "HistoryColumns"))
        values = np_copy(call(self._net, "HistoryValues"), np.float64)
        df = pd.DataFrame(values.reshape(-1, len(columns)), columns=columns)
        for c in df.columns:   # counters come back as doubles; give integral columns an integer dtype
            col = df[c].to_numpy()
            if len(col) and np.isfinite(col).all() and (col == np.round(col)).all():
                df[c] = col.astype(np.int64)
        df.insert(0, "op", strs(call(self._net, "HistoryOps")))   # what each step did, e.g. "workload.anon"
        return df
