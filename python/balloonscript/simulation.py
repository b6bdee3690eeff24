"""The Pythonic face of BalloonScript.Bindings.PySimulation.

Deliberately thin: every number comes from the C# engine. This module converts types (bulk .NET arrays
to numpy through the buffer protocol, strings, small result objects), checks argument *types*, and turns
.NET ArgumentException into ValueError. Ranges and semantics are the engine's.
"""
from __future__ import annotations

import contextlib
import enum
import math
import numbers
import re
from dataclasses import dataclass, field

import numpy as np

from . import _clr

_clr.load()
PySimulation, System = _clr.import_bindings()

MAX_ORDER = 11   # orders 0..10, as the kernel's MAX_ORDER

_INT32 = (-2**31, 2**31 - 1)
_INT64 = (-2**63, 2**63 - 1)


# --------------------------------------------------------------------------- conversions

def _np(net_array, dtype) -> np.ndarray:
    """Copy a .NET array into a fresh numpy array of ``dtype``, through the buffer protocol (one bulk copy,
    no per-element calls across the .NET boundary); returns the numpy array."""
    return np.array(memoryview(net_array)).astype(dtype, copy=False)


def _strs(net_array) -> list[str]:
    return [str(s) for s in net_array] if net_array is not None else []


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


@contextlib.contextmanager
def _net_errors():
    """System.ArgumentException -> ValueError carrying the engine's message (which names the argument)."""
    try:
        yield
    except System.ArgumentException as e:   # includes ArgumentOutOfRangeException, ArgumentNullException
        message = str(e.Message)
        param = _snake(str(e.ParamName)) if e.ParamName else None
        if param and param not in message:
            message = f"{param}: {message}"
        raise ValueError(message) from None


def _member(obj, name: str):
    """A member of a bindings object; returns its value (a property getter runs .NET code)."""
    with _net_errors():
        return getattr(obj, name)


def _call(obj, name: str, *args):
    """Call the .NET method ``name`` of ``obj``; returns what it returns."""
    with _net_errors():
        return getattr(obj, name)(*args)


def _int(name: str, value, lo_hi=_INT64) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    value = int(value)
    if not lo_hi[0] <= value <= lo_hi[1]:
        raise ValueError(f"{name} must be in [{lo_hi[0]}, {lo_hi[1]}], got {value}")
    return value


def _real(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a number, got {value!r}")
    value = float(value)
    if math.isnan(value):
        raise ValueError(f"{name} must be a number, got nan")
    return value


def _str(name: str, value) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string, got {value!r}")
    return value


def _bool(name: str, value) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return value


def _order(order) -> int:
    return _int("order", order, _INT32)


# --------------------------------------------------------------------------- PageKind

def _page_kind_names() -> list[str]:
    with _net_errors():
        return _strs(PySimulation.PageKindNames())


def _identifier(name: str) -> str:
    ident = re.sub(r"\W", "_", name.strip()).lower()
    return ident if ident and not ident[0].isdigit() else f"k_{ident}"


with _net_errors():   # the engine's own lists, so the two sides cannot drift apart
    REPORT_KINDS = tuple(_strs(PySimulation.ReportKindNames()))
    DESIGNS = tuple(_strs(PySimulation.Designs()))
    FREE_PATTERNS = tuple(_strs(PySimulation.FreePatterns()))

PageKind = enum.IntEnum("PageKind", {_identifier(n): i for i, n in enumerate(_page_kind_names())},
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
                   dict(zip(_strs(r.ZoneNames), _strs(r.ZoneOutcomes))))


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
        return cls(str(r.Kind), int(r.Pfn), str(r.Message), tuple(_strs(r.Trace)), int(r.Cpu), int(r.Step))

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
        mib = _real("mib", mib)
        return int(_call(self._sim._net, "WorkloadAnon", mib))

    def file(self, mib) -> int:
        """Page-cache pages; returns pages allocated."""
        mib = _real("mib", mib)
        return int(_call(self._sim._net, "WorkloadFile", mib))

    def slab(self, mib) -> int:
        """Unmovable kernel (slab) pages; returns pages allocated."""
        mib = _real("mib", mib)
        return int(_call(self._sim._net, "WorkloadSlab", mib))

    def free(self, fraction, pattern: str = "interleave", seed=0) -> int:
        """Free ``fraction`` of the workload's pages in a pattern (interleave | random); returns pages freed."""
        fraction = _real("fraction", fraction)
        pattern = _str("pattern", pattern)
        seed = _int("seed", seed)
        return int(_call(self._sim._net, "WorkloadFree", fraction, pattern, seed))


class Balloon(_Part):
    """The virtio balloon, guest side."""

    def inflate(self, mib) -> int:
        """Fill the balloon; returns pages inflated."""
        mib = _real("mib", mib)
        return int(_call(self._sim._net, "BalloonInflate", mib))

    def deflate(self, mib) -> int:
        """Leak pages from the balloon; returns pages deflated."""
        mib = _real("mib", mib)
        return int(_call(self._sim._net, "BalloonDeflate", mib))

    @property
    def pages(self) -> int:
        """Pages in the balloon (guest view)."""
        return int(_member(self._sim._net, "BalloonPages"))


class Host(_Part):
    """The hypervisor's side of the balloon."""

    @property
    def ballooned_pages(self) -> int:
        """Pages the host believes are ballooned (its own ledger)."""
        return int(_member(self._sim._net, "HostBallooned"))


class Simulation:
    """A simulated guest. ``Simulation(memory_mib=4096, design="legacy", cpus=2, seed=1)``.

    design: legacy (v3.8-v3.17) | redesign (d6d86c0, v3.18) | fixed (v4.5).
    per_cpu_lists: model the v3.16 per-cpu page lists in front of the buddy lists (default off).
    """

    def __init__(self, memory_mib, design: str = "legacy", cpus=1, seed=0, *, per_cpu_lists=False):
        memory_mib = _int("memory_mib", memory_mib)
        design = _str("design", design)
        cpus = _int("cpus", cpus, _INT32)
        seed = _int("seed", seed)
        per_cpu_lists = _bool("per_cpu_lists", per_cpu_lists)
        with _net_errors():
            self._net = PySimulation.CreateWith(memory_mib, design, cpus, seed, per_cpu_lists)
        self.memory_mib, self.design, self.cpus, self.seed = memory_mib, design, cpus, seed
        self.per_cpu_lists = per_cpu_lists
        self.workload = Workload(self)
        self.balloon = Balloon(self)
        self.host = Host(self)

    def __repr__(self) -> str:
        return (f"Simulation(memory_mib={self.memory_mib}, design={self.design!r}, "
                f"cpus={self.cpus}, seed={self.seed}, per_cpu_lists={self.per_cpu_lists})")

    @property
    def net(self):
        """Returns the underlying BalloonScript.Bindings.PySimulation (for what this layer does not wrap)."""
        return self._net

    # -- actions
    def compact(self) -> CompactResult:
        """Full compaction of every zone, like writing 1 to /proc/sys/vm/compact_memory."""
        return CompactResult._from_net(_call(self._net, "Compact"))

    def allocate(self, order, count=1) -> int:
        """``count`` high-order allocation attempts (with direct compaction); returns successes."""
        order = _order(order)
        count = _int("count", count)
        return int(_call(self._net, "Allocate", order, count))

    # -- metrics
    def vmstat(self) -> dict:
        """/proc/vmstat as a dict, kernel names -> int."""
        names = _strs(_call(self._net, "VmstatNames"))
        values = _np(_call(self._net, "VmstatValues"), np.int64)
        return dict(zip(names, values.tolist()))

    def buddyinfo(self) -> str:
        """/proc/buddyinfo, exactly the kernel's text."""
        return str(_call(self._net, "Buddyinfo"))

    def pagetypeinfo(self) -> str:
        """/proc/pagetypeinfo, exactly the kernel's text."""
        return str(_call(self._net, "Pagetypeinfo"))

    def free_blocks(self) -> np.ndarray:
        """Free blocks per order 0..10, summed over zones (numpy int64)."""
        return _np(_call(self._net, "FreeBlocks"), np.int64)

    def extfrag_index(self, order) -> float:
        """debugfs extfrag_index of the largest zone for ``order``; returns it as printed, a float (-1.0 = a
        suitable block exists)."""
        order = _order(order)
        return int(_call(self._net, "ExtfragIndex", order)) / 1000.0

    def unusable_index(self, order) -> float:
        """debugfs unusable_index of the largest zone for ``order``; returns a float in [0, 1]."""
        order = _order(order)
        return int(_call(self._net, "UnusableIndex", order)) / 1000.0

    def extfrag_text(self) -> str:
        """debugfs extfrag/extfrag_index, the kernel's text (all zones and orders)."""
        return str(_call(self._net, "ExtfragText"))

    def unusable_text(self) -> str:
        """debugfs extfrag/unusable_index, the kernel's text."""
        return str(_call(self._net, "UnusableText"))

    def page_map(self) -> np.ndarray:
        """PageKind of every pfn (numpy uint8, length memory_mib * 256)."""
        return _np(_call(self._net, "PageMap"), np.uint8)

    def reports(self) -> list:
        """Sanitizer findings so far; returns a list of Report, oldest first."""
        return [Report._from_net(r) for r in _call(self._net, "Reports")]

    def history(self):
        """Metrics recorded per step; returns a pandas DataFrame, one row per step, the op column first."""
        import pandas as pd
        columns = _strs(_call(self._net, "HistoryColumns"))
        values = _np(_call(self._net, "HistoryValues"), np.float64)
        df = pd.DataFrame(values.reshape(-1, len(columns)), columns=columns)
        for c in df.columns:   # counters come back as doubles; give integral columns an integer dtype
            col = df[c].to_numpy()
            if len(col) and np.isfinite(col).all() and (col == np.round(col)).all():
                df[c] = col.astype(np.int64)
        df.insert(0, "op", _strs(_call(self._net, "HistoryOps")))   # what each step did, e.g. "workload.anon"
        return df
