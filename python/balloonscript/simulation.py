"""The Pythonic face of BalloonScript.Bindings.PySimulation.

Deliberately thin: every number comes from the C# engine. This module converts types (bulk .NET arrays
to numpy through the buffer protocol, strings, small result objects) with the helpers of ``_convert``, checks
argument *types*, and turns .NET ArgumentException into ValueError. Ranges, defaults and semantics are the
engine's: the option defaults, the design list and the kernel constants are read from it. Calls into one
simulation are serialised (a lock per Simulation), and the long ones can be stopped with Ctrl-C.
"""
from __future__ import annotations

import enum
import re
import threading
from dataclasses import dataclass, field

import numpy as np

from ._convert import (INT32, as_bool, as_int, as_real, as_str, bindings, call, interruptible, member, net_errors,
                       np_copy, pascal, strs)

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
        return int(self._sim._run("WorkloadAnon", mib))

    def file(self, mib) -> int:
        """Page-cache pages; returns pages allocated."""
        mib = as_real("mib", mib)
        return int(self._sim._run("WorkloadFile", mib))

    def slab(self, mib) -> int:
        """Unmovable kernel (slab) pages; returns pages allocated."""
        mib = as_real("mib", mib)
        return int(self._sim._run("WorkloadSlab", mib))

    def free(self, fraction, pattern: str = "interleave", seed=0) -> int:
        """Free ``fraction`` of the workload's pages in a pattern (interleave | random); returns pages freed."""
        fraction = as_real("fraction", fraction)
        pattern = as_str("pattern", pattern)
        seed = as_int("seed", seed)
        return int(self._sim._run("WorkloadFree", fraction, pattern, seed))


class Balloon(_Part):
    """The virtio balloon, guest side."""

    def inflate(self, mib) -> int:
        """Fill the balloon; returns pages inflated."""
        mib = as_real("mib", mib)
        return int(self._sim._run("BalloonInflate", mib))

    def deflate(self, mib) -> int:
        """Leak pages from the balloon; returns pages deflated."""
        mib = as_real("mib", mib)
        return int(self._sim._run("BalloonDeflate", mib))

    @property
    def pages(self) -> int:
        """Pages in the balloon (guest view)."""
        return int(self._sim._get("BalloonPages"))


class Host(_Part):
    """The hypervisor's side of the balloon."""

    @property
    def ballooned_pages(self) -> int:
        """Pages the host believes are ballooned (its own ledger)."""
        return int(self._sim._get("HostBallooned"))


class Simulation:
    """A simulated guest. ``Simulation(memory_mib=4096, design="legacy", cpus=2, seed=1)``.

    design: one of DESIGNS (see ``designs()``): legacy (v3.8-v3.17), redesign (d6d86c0, v3.18), fixed (v4.5).
    per_cpu_lists: model the v3.16 per-cpu page lists in front of the buddy lists.
    check_accounting: run the whole-memory page-state checks after every operation.
    Every default is the engine's (SimulationOptions). A guest larger than this machine's memory can simulate is
    refused with a ValueError naming memory_mib and the memory it needs.

    Threads: a Simulation may be shared between threads; its calls are serialised (one runs, the others wait).
    Different Simulations are independent and run in parallel on different threads.
    Ctrl-C: a long call made on the main thread (compact, allocate, the workload and balloon calls) stops within
    about 0.2 s and raises KeyboardInterrupt; the simulation stays usable, its state consistent (the operation ran
    part of the way, as a killed task would have).
    """

    def __init__(self, memory_mib: int = _DEFAULTS["memory_mib"], design: str = _DEFAULTS["design"],
                 cpus: int = _DEFAULTS["cpus"], seed: int = _DEFAULTS["seed"], *,
                 per_cpu_lists: bool = _DEFAULTS["per_cpu_lists"], check_accounting: bool = _DEFAULTS["check_accounting"]):
        options = {"memory_mib": as_int("memory_mib", memory_mib), "design": as_str("design", design),
                   "cpus": as_int("cpus", cpus, INT32), "seed": as_int("seed", seed),
                   "per_cpu_lists": as_bool("per_cpu_lists", per_cpu_lists),
                   "check_accounting": as_bool("check_accounting", check_accounting)}
        self._lock = threading.RLock()
        net_options = bindings.PyOptions()
        for name, value in options.items():
            setattr(net_options, pascal(name), value)
        with net_errors():
            self._net = PySimulation.Create(net_options)
        self.options = options
        self.memory_mib, self.design, self.cpus, self.seed = memory_mib, design, cpus, seed
        self.per_cpu_lists = per_cpu_lists
        self.workload = Workload(self)
        self.balloon = Balloon(self)
        self.host = Host(self)

    def __repr__(self) -> str:
        return "Simulation(" + ", ".join(f"{k}={v!r}" for k, v in self.options.items()) + ")"

    @property
    def net(self):
        """Returns the underlying BalloonScript.Bindings.PySimulation (for what this layer does not wrap; calls on
        it bypass the lock and Ctrl-C handling)."""
        return self._net

    def _call(self, name: str, *args):
        """A quick engine call, serialised with the other threads' calls; returns what the engine returns."""
        with self._lock:
            return call(self._net, name, *args)

    def _get(self, name: str):
        """An engine property, read under the lock."""
        with self._lock:
            return member(self._net, name)

    def _run(self, name: str, *args):
        """A long engine call: serialised, and Ctrl-C stops it (the engine's Interrupted flag, cleared after)."""
        net = self._net

        def interrupt():
            net.Interrupted = True

        def resume():
            net.Interrupted = False

        with self._lock, net_errors():
            return interruptible(lambda: getattr(net, name)(*args), interrupt, resume)

    # -- actions
    def compact(self) -> CompactResult:
        """Full compaction of every zone, like writing 1 to /proc/sys/vm/compact_memory."""
        return CompactResult._from_net(self._run("Compact"))

    def allocate(self, order, count=1) -> int:
        """``count`` high-order allocation attempts (with direct compaction); returns successes."""
        order = _order(order)
        count = as_int("count", count)
        return int(self._run("Allocate", order, count))

    # -- metrics
    def vmstat(self) -> dict:
        """/proc/vmstat as a dict, kernel names -> int."""
        with self._lock:   # names and values of one moment
            names = strs(self._call("VmstatNames"))
            values = np_copy(self._call("VmstatValues"), np.int64)
        return dict(zip(names, values.tolist()))

    def buddyinfo(self) -> str:
        """/proc/buddyinfo, exactly the kernel's text."""
        return str(self._call("Buddyinfo"))

    def pagetypeinfo(self) -> str:
        """/proc/pagetypeinfo, exactly the kernel's text."""
        return str(self._call("Pagetypeinfo"))

    def free_blocks(self) -> np.ndarray:
        """Free blocks per order 0..10, summed over zones (numpy int64)."""
        return np_copy(self._call("FreeBlocks"), np.int64)

    def extfrag_index(self, order) -> float:
        """debugfs extfrag_index of the largest zone for ``order``; returns it as printed, a float (-1.0 = a
        suitable block exists)."""
        order = _order(order)
        return int(self._call("ExtfragIndex", order)) / 1000.0

    def unusable_index(self, order) -> float:
        """debugfs unusable_index of the largest zone for ``order``; returns a float in [0, 1]."""
        order = _order(order)
        return int(self._call("UnusableIndex", order)) / 1000.0

    def extfrag_text(self) -> str:
        """debugfs extfrag/extfrag_index, the kernel's text (all zones and orders)."""
        return str(self._call("ExtfragText"))

    def unusable_text(self) -> str:
        """debugfs extfrag/unusable_index, the kernel's text."""
        return str(self._call("UnusableText"))

    def page_map(self) -> np.ndarray:
        """PageKind of every pfn (numpy uint8, length memory_mib * 256)."""
        return np_copy(self._call("PageMap"), np.uint8)

    def reports(self) -> list:
        """Sanitizer findings so far; returns a list of Report, oldest first."""
        return [Report._from_net(r) for r in self._call("Reports")]

    def history(self):
        """Metrics recorded per step; returns a pandas DataFrame, one row per step, the op column first."""
        import pandas as pd
        with self._lock:   # the rows, their columns and their ops of one moment
            columns = strs(self._call("HistoryColumns"))
            values = np_copy(self._call("HistoryValues"), np.float64)
            ops = strs(self._call("HistoryOps"))
        df = pd.DataFrame(values.reshape(-1, len(columns)), columns=columns)
        for c in df.columns:   # counters come back as doubles; give integral columns an integer dtype
            col = df[c].to_numpy()
            if len(col) and np.isfinite(col).all() and (col == np.round(col)).all():
                df[c] = col.astype(np.int64)
        df.insert(0, "op", ops)   # what each step did, e.g. "workload.anon"
        return df
