"""The Pythonic face of BalloonScript.Bindings.PySimulation.

Deliberately thin: every number comes from the C# engine. This module converts types (bulk .NET arrays
to numpy through the buffer protocol, strings, small result objects) with the helpers of ``_convert``, checks
argument *types*, and turns .NET ArgumentException into ValueError. Ranges, defaults and semantics are the
engine's: the option defaults, the design list and the kernel constants are read from it.
"""
from __future__ import annotations

import enum
import math
import re
import threading
from dataclasses import dataclass, field

import numpy as np

from ._progress import progress as _progress_bar
from ._convert import (INT32, as_bool, as_int, as_real, as_str, bindings, call, interruptible, member, net_errors,
                       np_copy, pascal, strs)

PySimulation = bindings.PySimulation


# --------------------------------------------------------------------------- what the engine serves

with net_errors():   # the engine's own lists and constants, so the two sides cannot drift apart
    REPORT_KINDS = tuple(strs(PySimulation.ReportKindNames()))
    MIGRATETYPES = tuple(strs(PySimulation.MigratetypeNames()))   # v3.16's; a simulation's own: sim.migratetypes
    PAGE_FLAGS = tuple(strs(PySimulation.PageFlagNames()))        # page_flags() bit i is PAGE_FLAGS[i]
    FREE_PATTERNS = tuple(strs(PySimulation.FreePatterns()))
    _CONSTANTS = dict(zip(strs(PySimulation.ConstantNames()), (int(v) for v in PySimulation.ConstantValues())))
    _PROCESS_COLUMNS = tuple(strs(PySimulation.ProcessColumns()))
    _OPTION_NAMES = tuple(strs(bindings.PyOptions.Names()))
    _DEFAULTS = {name: getattr(bindings.PyOptions(), pascal(name)) for name in _OPTION_NAMES}
    _DEFAULTS = {k: (str(v) if isinstance(v, str) else v) for k, v in _DEFAULTS.items()}

MAX_ORDER = _CONSTANTS["max_order"]               # orders 0..MAX_ORDER-1, as the kernel's MAX_ORDER
PAGEBLOCK_ORDER = _CONSTANTS["pageblock_order"]   # pageblock_order: 2 MiB pageblocks
PAGE_SIZE = _CONSTANTS["page_size"]
PAGES_PER_MIB = _CONSTANTS["pages_per_mib"]
MAX_RUN_MS = _CONSTANTS["max_run_ms"]             # the longest sim.run: a simulated day
_MAX_RUN_STEPS = 1_000_000                         # history rows one sampled sim.run may add


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

# The /proc/pressure files of 6.1 that are modelled (irq, CONFIG_IRQ_TIME_ACCOUNTING's, is not).
_PSI_RESOURCES = ("memory", "io", "cpu")


def _psi_resource(resource) -> str:
    """``resource`` checked: the name of a modelled /proc/pressure file."""
    resource = as_str("resource", resource)
    if resource not in _PSI_RESOURCES:
        raise ValueError(f"resource must be one of {list(_PSI_RESOURCES)}, got {resource!r}")
    return resource


# What ``sim.host.map()`` says of a guest frame, by value (engine/Host/RamBlock.cs, Map).
HOST_MAP_STATES = ("never written", "backed", "backed by a huge page", "discarded")


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

    def _repr_html_(self) -> str:
        cells = "".join(f"<tr><th style='text-align:left'>{k}</th><td>{v}</td></tr>"
                        for k, v in (("migrated", self.migrated), ("failed", self.failed), ("isolated", self.isolated),
                                     ("migrate scanned", self.migrate_scanned), ("free scanned", self.free_scanned),
                                     *self.zones.items()))
        return f"<table><caption>compact_memory</caption>{cells}</table>"

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


@dataclass(frozen=True)
class PageInfo:
    """One page (``sim.page(pfn)``): ``flags`` by kernel name (PG_ without the prefix), ``count`` (_count),
    ``mapcount`` (_mapcount as stored: -1 unmapped, -128 buddy, -256 balloon), ``page_type`` ("buddy", "balloon" or
    None), what ``mapping`` points to, ``private``, the ``migratetype`` and ``pageblock_skip`` of its pageblock, the
    ``list`` its lru links it into, the simulator's ``content`` token and page ``kind``."""
    pfn: int
    zone: str
    kind: str
    flags: tuple
    count: int
    mapcount: int
    page_type: str | None
    mapping: str
    private: int
    migratetype: str
    pageblock_skip: bool
    list: str
    content: int

    @classmethod
    def _from_net(cls, p) -> "PageInfo":
        return cls(int(p.Pfn), str(p.Zone), str(p.Kind), tuple(strs(p.Flags)), int(p.Count), int(p.Mapcount),
                   None if p.PageType is None else str(p.PageType), str(p.Mapping), int(p.Private),
                   str(p.Migratetype), bool(p.PageblockSkip), str(p.List), int(p.Content))


# --------------------------------------------------------------------------- the simulation

def _seed_arg(seed) -> tuple:
    """The seed argument of a workload call: none (the engine draws from the simulation's seed stream) or one."""
    return () if seed is None else (as_int("seed", seed),)


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

    def file(self, mib, dirty=0.0) -> int:
        """Page-cache pages of a new file, read once (each marked accessed, as the kernel's read marks it: PG_referenced),
        ``dirty`` of them written since; returns pages allocated."""
        mib, dirty = as_real("mib", mib), as_real("dirty", dirty)
        return int(self._sim._run("WorkloadFile", mib, dirty))

    def slab(self, mib, reclaimable=False) -> int:
        """Kernel (slab) pages: unmovable, or ``reclaimable`` by a shrinker (dentries, inodes); returns pages allocated."""
        mib, reclaimable = as_real("mib", mib), as_bool("reclaimable", reclaimable)
        return int(self._sim._run("WorkloadSlab", mib, reclaimable))

    def touch(self, fraction, kind: str = "all", pattern: str = "interleave", seed: int | None = None) -> int:
        """Access ``fraction`` of the workload's pages of ``kind`` (anon | file | all), reading them: mapped pages get
        their accessed bit, page cache is read (mark_page_accessed), swapped-out pages are faulted back in by a read
        fault (the page stays in the swap cache, keeping its slot, unless swap is half full: a write fault would free the
        slot at once, ``reuse_swap_page`` / ``should_try_to_free_swap``), and page cache
        that reclaim evicted is read back from the file (a refault: ``workingset_refault``); each read from the disk
        (a major fault's, a refault's) waits ``io_latency_ms`` of simulated time. Returns pages touched. ``seed``
        picks the pages of a random pattern (None: the simulation's seed stream)."""
        fraction, kind, pattern = as_real("fraction", fraction), as_str("kind", kind), as_str("pattern", pattern)
        return int(self._sim._run("WorkloadTouch", fraction, kind, pattern, *_seed_arg(seed)))

    def free(self, fraction, pattern: str = "interleave", seed: int | None = None, kind: str = "all") -> int:
        """Free ``fraction`` of the workload's pages of ``kind`` (all | anon | file | slab) in a pattern (interleave |
        random); returns pages freed. ``seed`` picks the pages of the random pattern (None: the simulation's seed
        stream)."""
        fraction = as_real("fraction", fraction)
        pattern = as_str("pattern", pattern)
        kind = as_str("kind", kind)
        return int(self._sim._run("WorkloadFree", fraction, pattern, kind, *_seed_arg(seed)))


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

    @property
    def untold_pages(self) -> int:
        """Pages in the balloon the host has not been told of yet: the batch of a fill_balloon asleep after "Out of
        puff!" (it tells the host when it wakes); ``host.ballooned_pages + untold_pages == pages`` between calls."""
        return int(self._sim._get("BalloonUntoldPages"))

    @property
    def inflatable_pages(self) -> int:
        """The most ``inflate`` may ask for now, in pages (more is a ValueError): what the guest could ever give, as
        ``inflate`` says."""
        return int(self._sim._get("BalloonInflatablePages"))

    @property
    def hint_blocks(self) -> int:
        """4 MiB blocks free page hinting holds for the host now (``free_page_hint=True``, while a migration runs; else 0)."""
        return int(self._sim._get("FreePageHintBlocks"))

    @property
    def out_of_puff(self) -> int:
        """fill_balloon calls that could not get a page ("Out of puff!") and slept 200 ms."""
        return int(self._sim._get("BalloonOutOfPuff"))

    def stats(self) -> dict:
        """What the driver's update_balloon_stats would send on the stats virtqueue now, in the design's kernel: the
        VIRTIO_BALLOON_S_* tags it has (v3.16-v4.5: SWAP_IN, SWAP_OUT, MAJFLT, MINFLT, MEMFREE, MEMTOT; v4.8 adds AVAIL;
        6.1 adds HTLB_PGALLOC, HTLB_PGFAIL and CACHES) -> value, in the driver's order: memory in bytes
        (pages_to_bytes), faults and hugetlb allocations as counts."""
        tags, values = self._sim._call("BalloonStats")
        return dict(zip(strs(tags), np_copy(values, np.int64).tolist()))


_MIGRATION_STATUS = ("none", "active", "completed", "cancelled")


class Host(_Part):
    """The hypervisor's side of the balloon, the host memory behind the guest's RAM, and live migration."""

    @property
    def ballooned_pages(self) -> int:
        """Pages the host believes are ballooned (its own ledger)."""
        return int(self._sim._get("HostBallooned"))

    @property
    def target_pages(self) -> int:
        """The balloon size the host asks for (the device's num_pages), in 4 KiB pages."""
        return int(self._sim._get("HostTargetPages"))

    @property
    def reported_pages(self) -> int:
        """4 KiB frames the host has discarded on free page reports, in all (``free_page_reporting=True``; a frame
        reported again counts again)."""
        return int(self._sim._get("HostReportedPages"))

    @property
    def reports(self) -> int:
        """Free page reports the host has handled (each a list of up to 32 free blocks of 2 MiB or more)."""
        return int(self._sim._get("HostReports"))

    @property
    def resident_pages(self) -> int:
        """Guest frames the host backs with memory now: the guest RAM's share of QEMU's resident set, in 4 KiB pages.
        A frame is backed from the guest's first write of it (a fault on the host) until the host discards it
        (inflated into the balloon, or reported free). A fresh guest has nothing backed: the model's guest boots with
        all its memory free."""
        return int(self._sim._get("HostResidentPages"))

    @property
    def faults(self) -> int:
        """Host faults: the guest's first writes of frames the host did not back (never written, or discarded); with
        ``host_thp=True`` one fault maps a whole 2 MiB region."""
        return int(self._sim._get("HostFaults"))

    @property
    def refaults(self) -> int:
        """Of ``faults``, those on frames the host had discarded (inflated or reported free, then written again): the
        price, paid later, of memory given back. Deflating the balloon maps nothing in (QEMU's MADV_WILLNEED)."""
        return int(self._sim._get("HostRefaults"))

    @property
    def huge_pages(self) -> int:
        """2 MiB regions of guest RAM the host maps with a transparent huge page now (``host_thp=True``; else 0)."""
        return int(self._sim._get("HostHugePages"))

    @property
    def thp_splits(self) -> int:
        """Host huge pages split because the host discarded part of them: a balloon page, or a reported block smaller
        than 2 MiB (``host_thp=True``; else 0). A split region is mapped 4 KiB at a time until the host's khugepaged
        collapses it (``khugepaged()``)."""
        return int(self._sim._get("HostThpSplits"))

    @property
    def deferred_split_pages(self) -> int:
        """Frames the host discarded from huge pages it split but still holds (``host_thp=True``; else 0): a discard of
        part of a huge page unmaps those frames (``resident_pages`` drops) but the huge page stays whole in memory, queued
        for a deferred split that only memory pressure on the host (its shrinker) or the huge page's last unmapping
        brings: here a charge past the limit of QEMU's memory cgroup (``host_memory_max_mib``) or ``drop_caches()``. The
        host's memory in use behind the guest is ``resident_pages + deferred_split_pages``. A khugepaged collapse frees
        the old huge page, and what it held."""
        return int(self._sim._get("HostDeferredSplitPages"))

    def drop_caches(self) -> int:
        """``echo 3 > /proc/sys/vm/drop_caches`` on the host, standing in for its memory pressure: its shrinkers run, and
        of what they free the model's host has only the deferred-split queue, so every huge page a discard split frees
        the frames it held (``deferred_split_pages`` drops to 0; the regions stay mapped 4 KiB at a time, khugepaged may
        collapse them again). Returns the frames freed."""
        return int(self._sim._run("HostDropCaches"))

    @property
    def ballooned_resident_pages(self) -> int:
        """Frames the host holds as ballooned yet backs: with ``host_thp=True``, the guest's first write in a 2 MiB
        region maps a huge page over the ballooned frames there that the host had never backed (no discard can free what
        was never mapped). 0 without host THP."""
        return int(self._sim._get("HostBalloonedResidentPages"))

    def khugepaged(self) -> dict:
        """The host's khugepaged (``host_thp=True``; its counts stay 0 without): pages_collapsed (split regions it made
        huge again, each backing its empty frames with zeros: ballooned frames among them are mapped again, see
        ``ballooned_resident_pages``; the old huge page is freed, so the memory in use does not move), full_scans (passes over the whole guest RAM), thp_scan_exceed_none_pte (regions
        left alone for having more than max_ptes_none empty frames), scan_cgroup_charge_fail (collapses that failed
        because QEMU's memory cgroup could not take the new huge page, ``host_memory_max_mib``: named after the scan's
        result, SCAN_CGROUP_CHARGE_FAIL, which only a tracepoint reports), and its settings: pages_to_scan (by default
        4,096: 8 regions a wake-up), scan_sleep_millisecs and max_ptes_none (the options ``host_khugepaged_pages_to_scan``,
        ``host_khugepaged_scan_sleep_ms`` and ``host_khugepaged_max_ptes_none``). The others are named as in
        /sys/kernel/mm/transparent_hugepage/khugepaged and /proc/vmstat."""
        names = strs(PySimulation.HostKhugepagedStatNames())
        return dict(zip(names, np_copy(self._sim._call("HostKhugepagedStats"), np.int64).tolist()))

    def memcg(self) -> dict:
        """QEMU's memory cgroup (``host_memory_max_mib``): memory_current (the pages charged for guest RAM, its share of
        memory.current: ``resident_pages + deferred_split_pages``), memory_max (the limit in pages; None without one) and
        memory_events_max (memory.events' max: charges that found the cgroup at its limit, each followed by reclaim in
        the cgroup, which splits the huge pages on the deferred-split queue; a khugepaged collapse that still does not
        fit counts 18, see ``khugepaged()``'s scan_cgroup_charge_fail)."""
        names = strs(PySimulation.HostMemcgStatNames())
        stats = dict(zip(names, np_copy(self._sim._call("HostMemcgStats"), np.int64).tolist()))
        stats["memory_max"] = None if stats["memory_max"] < 0 else stats["memory_max"]
        return stats

    def map(self) -> np.ndarray:
        """Every guest frame as the host sees it (numpy uint8, one per pfn): an index into HOST_MAP_STATES (0 never
        written, 1 backed by a 4 KiB page, 2 backed by a huge page, 3 discarded). ``plots.plot_host_map`` draws it."""
        return np_copy(self._sim._call("HostMap"), np.uint8)

    def migrate(self, bandwidth_mib_s=128, downtime_limit_ms=300, wait: bool = True) -> dict:
        """Live-migrate the guest as QEMU's precopy does, and return ``migration()``.

        Every guest frame is sent once in PFN order, whole (4 KiB and an 8-byte header) if it holds what the guest wrote,
        else as a zero page (9 bytes: never written, discarded by the balloon or a report, or a host huge page's zeros);
        frames the guest writes meanwhile are logged and sent again after the next bitmap sync, which comes once what is
        left to send fits in ``bandwidth_mib_s`` (QEMU's max-bandwidth; its default 128 MiB/s since 5.2, 32 before)
        times ``downtime_limit_ms`` (default 300); then the guest stops and the rest goes in the downtime (the RAM's share of it: no device state is
        modelled). A guest with ``free_page_hint=True`` (v6.1) hands its free 4 MiB blocks to the host meanwhile, which
        then need not send them.
        Afterwards the guest runs on the destination: ``resident_pages`` and the host map are the destination's (the
        frames sent whole). wait: let simulated time pass until it completes (at most a simulated hour); False: it goes
        on as time passes (``sim.run``) while the workload changes the guest. One migration at a time (ValueError)."""
        bandwidth_mib_s = as_real("bandwidth_mib_s", bandwidth_mib_s)
        downtime_limit_ms = as_real("downtime_limit_ms", downtime_limit_ms)
        self._sim._run("HostMigrate", bandwidth_mib_s, downtime_limit_ms, as_bool("wait", wait))
        return self.migration()

    def migration(self) -> dict:
        """The running or last migration, as QEMU's ``info migrate`` counts it: status ("none", "active", "completed",
        "cancelled"), bandwidth_mib_s, downtime_limit_ms, start_ms (on the simulated clock), total_time_ms, downtime_ms,
        transferred (bytes), normal (pages sent whole), duplicate (zero pages), remaining (pages still to send),
        dirty_sync_count, hinted_pages (pages free page hinting took off the list to send)."""
        names = strs(PySimulation.HostMigrationStatNames())
        values = dict(zip(names, np_copy(self._sim._call("HostMigrationStats"), np.int64).tolist()))
        stats = {"status": _MIGRATION_STATUS[values.pop("status")],
                 "bandwidth_mib_s": values.pop("bandwidth_bytes_per_s") / 2**20}
        for name, value in values.items():
            if name.endswith("_ns"):
                stats[name[:-3] + "_ms"] = value / 1e6
            else:
                stats[name] = value
        return stats

    def migrate_cancel(self) -> None:
        """Cancel a running migration (QEMU's ``migrate_cancel``): hinting ends (the guest gets its blocks back) and
        the guest stays where it was. Nothing if none runs."""
        self._sim._run("HostMigrateCancel")

    def set_target(self, balloon_mib) -> None:
        """Ask for a balloon of ``balloon_mib`` MiB (the device's num_pages; QEMU's ``balloon N`` asks for a
        guest of N MiB, i.e. a balloon of memory minus N, and refuses N = 0, so ``balloon_mib`` is below the guest's
        memory by a page at least). The balloon thread works towards it as simulated time passes (``sim.run``)."""
        balloon_mib = as_real("balloon_mib", balloon_mib)
        self._sim._run("HostSetTarget", balloon_mib)


class PsiTrigger:
    """A PSI trigger (``sim.psi_trigger``): what writing ``"some 150000 1000000"`` to /proc/pressure/memory and polling
    the file gives a monitor such as Android's lmkd. 6.1's poll worker compares the state's stall time over the trigger's
    window with its threshold about ten times a window, and makes at most one event a window.

    ``poll()``: True if an event came since the last poll (POLLPRI), clearing it; ``events_ms``: the simulated time of
    every event so far; ``close()``: closes the file (the trigger is destroyed). A trigger lives in its simulation's state:
    a restore to a snapshot taken before it was created closes it, one taken before it was closed opens it again. A
    fork has copies of its source's triggers, which this object, bound to the simulation that made it, does not reach."""
    __slots__ = ("_sim", "_handle", "resource", "trigger")

    def __init__(self, sim: "Simulation", handle: int, resource: str, trigger: str):
        self._sim, self._handle, self.resource, self.trigger = sim, handle, resource, trigger

    def poll(self) -> bool:
        return bool(self._sim._call("PsiTriggerPoll", self._handle))

    @property
    def events_ms(self) -> list[float]:
        return [ns / 1e6 for ns in np_copy(self._sim._call("PsiTriggerEvents", self._handle), np.int64).tolist()]

    def close(self) -> None:
        self._sim._call("PsiTriggerDestroy", self._handle)

    def __repr__(self) -> str:
        return f"PsiTrigger({self.resource!r}, {self.trigger!r})"


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

    design: one of DESIGNS (see ``designs()``): legacy (v3.8-v3.17), redesign (d6d86c0, v3.18), fixed (v4.5),
    movable (v4.8: the balloon on non-LRU movable pages, b1123ea6d3b3), v6.1 (6.1 page allocator, compaction,
    migration and reclaim; v4.8's balloon core).
    per_cpu_lists: model the design's per-cpu page lists in front of the buddy lists.
    check_accounting: run the whole-memory page-state checks at boot and after every operation.
    hz: CONFIG_HZ, the timer tick (100, 250, 300 or 1000); timeslice_ms: CPU time a kernel path runs before the tick
    sets need_resched (0 = never).
    reclaim: model reclaim (kswapd, direct reclaim, the OOM killer); pagevecs: the per-cpu LRU pagevecs;
    swap_mib: swap space (0 = none); io_latency_ms: how long the disk takes for a page (a write completes that much
    later; a major swap fault or a page-cache page read back waits that long);
    host_us_per_page: the host's time per ballooned page on top of 20 us per kick.
    max_reports_per_kind: sanitizer findings kept in full per kind (all are counted: ``report_counts()``).
    compaction_proactiveness (0-100), watermark_boost_factor, watermark_scale_factor (1-3000): the sysctls of the
    designs whose kernel has them (v6.1); None keeps the kernel's default (20, 15000, 10). On a design without them
    they raise ValueError naming the designs that have them.
    deflate_on_oom: the host offers VIRTIO_BALLOON_F_DEFLATE_ON_OOM (QEMU's deflate-on-oom=on): at each OOM the
    driver gives 256 balloon pages back to the guest instead of a kill, and ballooned pages stay in managed memory.
    Only the designs whose driver has it (fixed, movable, v6.1; v3.19+); on another design it raises ValueError.
    free_page_reporting: the host offers VIRTIO_BALLOON_F_REPORTING (QEMU's free-page-reporting=on): two seconds after
    a block of 2 MiB or more is freed (simulated time: ``sim.run``), the kernel's free page reporting tells the host of
    the free blocks of that size, 32 at a time, and the host discards them (``host.reported_pages``;
    ``sim.reported_free_pages``). Only the designs whose kernel has it (v6.1; v5.7+); on another design it raises
    ValueError. page_reporting_order (0-10, with free_page_reporting): the smallest block reported, as written to
    /sys/module/page_reporting/parameters/page_reporting_order after boot; None keeps pageblock order, 9 (2 MiB).
    host_thp: the host backs guest RAM with transparent huge pages (QEMU's MADV_HUGEPAGE, the host's THP on): its first
    fault in a 2 MiB region maps a huge page, a balloon page or a report of less than 2 MiB splits one without freeing
    it (``host.huge_pages``, ``host.thp_splits``, ``host.deferred_split_pages``), and the host's khugepaged collapses split regions into huge pages again
    as simulated time passes, backing their holes (``host.khugepaged()``). Off: 4 KiB host pages. Any design.
    host_khugepaged_max_ptes_none (0-511), host_khugepaged_scan_sleep_ms (1-3,600,000) and
    host_khugepaged_pages_to_scan (1-2,147,483,647), with host_thp: the host's khugepaged settings
    (/sys/kernel/mm/transparent_hugepage/khugepaged/max_ptes_none, scan_sleep_millisecs, pages_to_scan): the most empty
    entries a region may have to be collapsed, the sleep between two wake-ups, and the budget of a wake-up (512 a 2 MiB
    region, and 1 each time the scan enters QEMU's memory); None keeps the kernel's 511, 10,000 and 4,096 (8 regions).
    host_memory_max_mib (memory_mib to 131,072): QEMU runs in a memory cgroup whose memory.max is this limit. The host
    pages behind guest RAM are charged to it; a charge past it reclaims in the cgroup first, which (no host swap)
    splits the huge pages a discard split and frees the frames they held (``host.memcg()``), and a khugepaged collapse
    whose new huge page does not fit fails. Only guest RAM is charged (read it as memory.max less QEMU's other charges:
    page tables, KVM's, QEMU's own memory), and it is at least the guest's RAM, so in this model a fault always fits
    after that reclaim and QEMU is never OOM-killed; it binds only with host_thp. None: no limit.
    free_page_hint: the host offers VIRTIO_BALLOON_F_FREE_PAGE_HINT (QEMU's free-page-hint=on): while a live migration
    runs (``host.migrate``), the driver holds the guest's free memory in 4 MiB blocks and hands them to the host, which
    then need not send them; memory pressure takes blocks back early (the driver's shrinker), the end of the migration
    gives the rest back (``balloon.hint_blocks``). Only the designs whose driver has it (v6.1; v4.20+); on another
    design it raises ValueError.
    seed: the source of every random choice a call makes without a seed of its own (``workload.free``,
    ``workload.touch``), so one seed decides a run and another seed gives another run.
    Every default is the engine's (SimulationOptions).

    Parts: ``workload`` (populate, touch and free memory), ``balloon`` (inflate, deflate, its size), ``host``
    (the balloon target the host asks for, the host memory behind the guest, live migration).

    A guest larger than this machine's memory can simulate is refused with a ValueError naming memory_mib and the
    memory it needs. Threads: a Simulation may be shared between threads; its calls are serialised (one runs, the
    others wait). Different Simulations are independent and run in parallel on different threads. Ctrl-C: a long
    call made on the main thread (run, compact, allocate, the workload and balloon calls) stops within about 0.2 s
    and raises KeyboardInterrupt; the simulation stays usable, its state consistent (the operation ran part of the
    way, as a killed task would have).
    """

    def __init__(self, memory_mib: int = _DEFAULTS["memory_mib"], design: str = _DEFAULTS["design"],
                 cpus: int = _DEFAULTS["cpus"], seed: int = _DEFAULTS["seed"], *,
                 per_cpu_lists: bool = _DEFAULTS["per_cpu_lists"], check_accounting: bool = _DEFAULTS["check_accounting"],
                 hz: int = _DEFAULTS["hz"], timeslice_ms: float = _DEFAULTS["timeslice_ms"],
                 reclaim: bool = _DEFAULTS["reclaim"], pagevecs: bool = _DEFAULTS["pagevecs"],
                 swap_mib: int = _DEFAULTS["swap_mib"], io_latency_ms: float = _DEFAULTS["io_latency_ms"],
                 host_us_per_page: float = _DEFAULTS["host_us_per_page"],
                 max_reports_per_kind: int = _DEFAULTS["max_reports_per_kind"],
                 compaction_proactiveness: int | None = _DEFAULTS["compaction_proactiveness"],
                 watermark_boost_factor: int | None = _DEFAULTS["watermark_boost_factor"],
                 watermark_scale_factor: int | None = _DEFAULTS["watermark_scale_factor"],
                 deflate_on_oom: bool = _DEFAULTS["deflate_on_oom"],
                 free_page_reporting: bool = _DEFAULTS["free_page_reporting"],
                 page_reporting_order: int | None = _DEFAULTS["page_reporting_order"],
                 host_thp: bool = _DEFAULTS["host_thp"],
                 host_khugepaged_max_ptes_none: int | None = _DEFAULTS["host_khugepaged_max_ptes_none"],
                 host_khugepaged_scan_sleep_ms: int | None = _DEFAULTS["host_khugepaged_scan_sleep_ms"],
                 host_khugepaged_pages_to_scan: int | None = _DEFAULTS["host_khugepaged_pages_to_scan"],
                 host_memory_max_mib: int | None = _DEFAULTS["host_memory_max_mib"],
                 free_page_hint: bool = _DEFAULTS["free_page_hint"]):
        options = {"memory_mib": as_int("memory_mib", memory_mib), "design": as_str("design", design),
                   "cpus": as_int("cpus", cpus, INT32), "seed": as_int("seed", seed),
                   "per_cpu_lists": as_bool("per_cpu_lists", per_cpu_lists),
                   "check_accounting": as_bool("check_accounting", check_accounting),
                   "hz": as_int("hz", hz, INT32), "timeslice_ms": as_real("timeslice_ms", timeslice_ms),
                   "reclaim": as_bool("reclaim", reclaim), "pagevecs": as_bool("pagevecs", pagevecs),
                   "swap_mib": as_int("swap_mib", swap_mib), "io_latency_ms": as_real("io_latency_ms", io_latency_ms),
                   "host_us_per_page": as_real("host_us_per_page", host_us_per_page),
                   "max_reports_per_kind": as_int("max_reports_per_kind", max_reports_per_kind, INT32)}
        for name, value in (("compaction_proactiveness", compaction_proactiveness),
                            ("watermark_boost_factor", watermark_boost_factor), ("watermark_scale_factor", watermark_scale_factor)):
            options[name] = None if value is None else as_int(name, value, INT32)
        options["deflate_on_oom"] = as_bool("deflate_on_oom", deflate_on_oom)
        options["free_page_reporting"] = as_bool("free_page_reporting", free_page_reporting)
        options["page_reporting_order"] = (None if page_reporting_order is None
                                           else as_int("page_reporting_order", page_reporting_order, INT32))
        options["host_thp"] = as_bool("host_thp", host_thp)
        for name, value in (("host_khugepaged_max_ptes_none", host_khugepaged_max_ptes_none),
                            ("host_khugepaged_scan_sleep_ms", host_khugepaged_scan_sleep_ms),
                            ("host_khugepaged_pages_to_scan", host_khugepaged_pages_to_scan)):
            options[name] = None if value is None else as_int(name, value, INT32)
        options["host_memory_max_mib"] = None if host_memory_max_mib is None else as_int("host_memory_max_mib", host_memory_max_mib)
        options["free_page_hint"] = as_bool("free_page_hint", free_page_hint)
        net_options = bindings.PyOptions()
        for name, value in options.items():
            setattr(net_options, pascal(name), value)
        with net_errors():
            self._attach(PySimulation.Create(net_options), options)

    def _attach(self, net, options: dict) -> None:
        self._lock = threading.RLock()
        self._net = net
        self.options = dict(options)
        self.memory_mib, self.design, self.cpus, self.seed = (options[k] for k in ("memory_mib", "design", "cpus", "seed"))
        self.per_cpu_lists = options["per_cpu_lists"]
        self.workload = Workload(self)
        self.balloon = Balloon(self)
        self.host = Host(self)

    def __repr__(self) -> str:
        changed = ", ".join(f"{k}={v!r}" for k, v in self.options.items()
                            if k not in ("memory_mib", "design", "seed") and v != _DEFAULTS[k])
        return (f"<Simulation {self.design} {self.memory_mib} MiB seed={self.seed}{', ' + changed if changed else ''}: "
                f"{self.clock_ms:.1f} ms, balloon {self.balloon.pages / PAGES_PER_MIB:g} MiB, "
                f"{sum(self.report_counts().values())} findings>")

    def summary(self) -> dict:
        """What the guest holds now, in MiB where it is memory: the numbers the notebook view shows."""
        v = self.vmstat()
        mib = 1 / PAGES_PER_MIB
        fb = self.free_blocks()
        return {
            "design": self.design, "memory (MiB)": self.memory_mib, "seed": self.seed, "clock (ms)": round(self.clock_ms, 3),
            "free (MiB)": v["nr_free_pages"] * mib, "anon (MiB)": v["nr_anon_pages"] * mib,
            "file (MiB)": v["nr_file_pages"] * mib,
            "slab (MiB)": (v["nr_slab_reclaimable"] + v["nr_slab_unreclaimable"]) * mib,
            "balloon (MiB)": self.balloon.pages * mib, "host target (MiB)": self.host.target_pages * mib,
            "free order-9 blocks": int(sum(int(n) << (o - PAGEBLOCK_ORDER) for o, n in enumerate(fb) if o >= PAGEBLOCK_ORDER)),
            "findings": {k: n for k, n in self.report_counts().items() if n} or "none",
        }

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><th style='text-align:left'>{k}</th><td style='text-align:left'>{v}</td></tr>"
                       for k, v in self.summary().items())
        return f"<table><caption>BalloonScript simulation</caption>{rows}</table>"

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

    # -- snapshots
    def snapshot(self) -> Snapshot:
        """A copy of the whole guest as it is now (page state, lists, zones, counters, mappings, balloon, host, driver,
        clock and timers, reports, history); returns a Snapshot for ``restore``."""
        return Snapshot(self._run("Snapshot"), self.clock_ms, len(strs(self._call("HistoryOps"))))

    def restore(self, snapshot: Snapshot) -> None:
        """Put the guest back to ``snapshot`` bit for bit. It must come from this simulation or a fork of it (same
        options); otherwise ValueError and nothing changes."""
        if not isinstance(snapshot, Snapshot):
            raise ValueError(f"snapshot must be a Snapshot from sim.snapshot(), got {snapshot!r}")
        self._run("Restore", snapshot._net)

    def fork(self) -> "Simulation":
        """An independent copy of this simulation (same design and options, same state); returns a new Simulation.
        What either does afterwards leaves the other unchanged."""
        child = Simulation.__new__(Simulation)
        child._attach(self._run("Fork"), self.options)
        return child

    # -- races
    def race(self, **cpus):
        """A race from this simulation's state: what each simulated CPU runs, as lists of ``bs.op`` operations, e.g.
        ``sim.race(cpu0=[bs.op.deflate(pages=16)], cpu1=[bs.op.compact(mode="async")])``. Built on a fork, so this
        simulation stays as it is; operations are checked and bound CPU by CPU, in order (``migrate`` isolates its page
        and takes a target now). Returns a Race to ``explore()`` or ``run()``. Bad input (an operation the design does
        not have, a CPU the simulation does not have, an empty list, more CPUs than it has, ``inflate``/``deflate`` on
        two CPUs: the balloon driver runs them on its one thread) is a ValueError."""
        from .explore import race
        return race(self, cpus)

    # -- time
    @property
    def clock_ms(self) -> float:
        """Simulated time since boot, in milliseconds."""
        return float(self._get("ClockMs"))

    def run(self, ms, sample_ms=None, progress: bool | None = None) -> float:
        """Let ``ms`` milliseconds of simulated time pass (kswapd, the balloon's work and other timers run on it);
        returns the clock afterwards, in ms.

        sample_ms: run in steps of this many ms, one ``history()`` row per step (a timeline to plot); None = one
        step. progress: a progress bar over the steps (None = when there are more than 20 of them).
        """
        ms = as_real("ms", ms)
        if not 0 <= ms <= MAX_RUN_MS:
            raise ValueError(f"ms must be in [0, {MAX_RUN_MS}] (a simulated day), got {ms!r}")
        if sample_ms is None:
            return float(self._run("Run", ms))
        sample_ms = as_real("sample_ms", sample_ms)
        if not 0 < sample_ms <= MAX_RUN_MS:
            raise ValueError(f"sample_ms must be in (0, {MAX_RUN_MS}], got {sample_ms!r}")
        steps = max(1, math.ceil(ms / sample_ms))
        if steps > _MAX_RUN_STEPS:
            raise ValueError(f"sample_ms must be at least ms / {_MAX_RUN_STEPS:,} ({ms / _MAX_RUN_STEPS:g} here), "
                             f"got {sample_ms!r}")
        bar = range(steps)
        if progress or (progress is None and steps > 20):
            bar = _progress_bar(bar, desc=f"run {ms:g} ms [{self.design}]", unit="step", leave=False)
        end = self.clock_ms + ms
        for _ in bar:
            now = self.clock_ms
            if now >= end:
                break
            self._run("Run", min(sample_ms, end - now))
        return self.clock_ms

    # -- actions
    def compact(self) -> CompactResult:
        """Full compaction of every zone, like writing 1 to /proc/sys/vm/compact_memory."""
        return CompactResult._from_net(self._run("Compact"))

    def allocate(self, order, count=1) -> int:
        """``count`` high-order allocation attempts (with direct compaction); returns successes."""
        order = _order(order)
        count = as_int("count", count)
        return int(self._run("Allocate", order, count))

    def dmesg(self) -> str:
        """The kernel log, as dmesg prints it: OOM kills, allocation failures, the balloon's "Out of puff!"."""
        return str(self._call("Dmesg"))

    # -- metrics
    def vmstat(self) -> dict:
        """The simulation's counters as a dict, kernel names -> int, with the same keys in every design (so designs
        compare and ``history()`` has fixed columns): v3.16's zone counters and vm events, then events later kernels
        added: the balloon events and oom_kill, counted in every design, and kcompactd's, 6.1's node reclaim, swap
        readahead and anonymous workingset events, counted where the design's kernel has them (0 elsewhere).
        ``proc_vmstat()`` is the design's own /proc/vmstat text."""
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

    def proc_vmstat(self) -> str:
        """/proc/vmstat, exactly the kernel's text (the design's kernel: v3.16 counters, balloon events from v3.18)."""
        return str(self._call("ProcVmstat"))

    def zoneinfo(self) -> str:
        """/proc/zoneinfo, exactly the kernel's text."""
        return str(self._call("Zoneinfo"))

    def meminfo(self) -> str:
        """/proc/meminfo, the design's kernel's text (v3.16's, or 6.1's in ``v6.1``): MemTotal falls as the balloon takes
        pages without deflate-on-OOM, MemAvailable is each version's estimate; what is not modelled (buffers, kernel
        stacks, vmalloc, per-cpu, hugetlb, the direct mapping) prints 0 (docs/model.md)."""
        return str(self._call("Meminfo"))

    def proc_swaps(self) -> str:
        """/proc/swaps, the design's kernel's text: the guest's swap area as /dev/vdb (a virtio-blk disk), its size and
        the slots in use in kB, and the priority swapon gives an area without one (v3.16: -1, 6.1: -2)."""
        return str(self._call("ProcSwaps"))

    def proc_pressure_memory(self) -> str:
        """/proc/pressure/memory, 6.1's text (``v6.1`` only: PSI came in 4.20): the share of time some task, and every
        non-idle task, was stalled on memory (direct reclaim and compaction, kswapd, kcompactd's requested work, waits
        for the read of a workingset page), as 10, 60 and 300 s averages in percent and totals in microseconds. A read
        collects the CPUs' stall times as the kernel's does: each CPU weighted by its non-idle jiffies since the last
        read, so reads less than a jiffy of work apart lose that work's stalls, as on a real guest (docs/model.md)."""
        self._need_psi("proc_pressure_memory")
        return str(self._call("ProcPressureMemory"))

    def proc_pressure_io(self) -> str:
        """/proc/pressure/io, 6.1's text (``v6.1`` only): the share of time some task, and every non-idle task, waited for
        I/O in io_schedule: for a read from the disk (a swap-in, a page-cache page read back) or on a page's lock or
        writeback (sync compaction waiting for a page being swapped out), read as ``proc_pressure_memory`` is."""
        self._need_psi("proc_pressure_io")
        return str(self._call("ProcPressureIo"))

    def proc_pressure_cpu(self) -> str:
        """/proc/pressure/cpu, 6.1's text (``v6.1`` only): the share of time some runnable task waited for its CPU (here:
        a path preempted by a kernel thread woken nested on its CPU); its ``full`` line is zeros, CPU FULL being
        undefined at the system level. Read as ``proc_pressure_memory`` is."""
        self._need_psi("proc_pressure_cpu")
        return str(self._call("ProcPressureCpu"))

    @property
    def has_psi(self) -> bool:
        """True if the design's kernel has pressure stall information (/proc/pressure: Linux 4.20 on, ``v6.1``)."""
        return bool(self._get("HasPsi"))

    def _need_psi(self, call: str) -> None:
        if not self.has_psi:
            raise ValueError(f"{call}(): design {self.design!r} has no pressure stall information "
                             "(/proc/pressure came in Linux 4.20): use design='v6.1'")

    def psi_trigger(self, resource: str, trigger: str) -> PsiTrigger:
        """A PSI trigger on /proc/pressure/``resource`` (``"memory"``, ``"io"`` or ``"cpu"``; ``v6.1`` only), as writing ``trigger``
        to that file makes one: ``"some <threshold_us> <window_us>"`` or ``"full ..."``, an event when that much stall time
        grew within the window (6.1 takes windows of 500,000 to 10,000,000 µs and a threshold of 1 µs to the window).
        Returns a :class:`PsiTrigger` to poll."""
        resource, trigger = _psi_resource(resource), as_str("trigger", trigger)
        self._need_psi("psi_trigger")
        return PsiTrigger(self, int(self._call("PsiTriggerCreate", resource, trigger)), resource, trigger)

    def pressure(self, resource: str = "memory") -> dict:
        """/proc/pressure/``resource`` (``"memory"``, ``"io"`` or ``"cpu"``) read and parsed:
        ``{"some": {"avg10": %, "avg60": %, "avg300": %, "total": µs}, "full": {...}}``, averages as floats, totals as
        ints."""
        readers = {"memory": self.proc_pressure_memory, "io": self.proc_pressure_io, "cpu": self.proc_pressure_cpu}
        out = {}
        for line in readers[_psi_resource(resource)]().splitlines():
            kind, *fields = line.split()
            values = dict(f.split("=") for f in fields)
            out[kind] = {k: (int(v) if k == "total" else float(v)) for k, v in values.items()}
        return out

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
        """PageKind of every pfn (numpy uint8, length memory_mib * 256): a fresh copy."""
        return self._live_copy("PageMapView", np.uint8)

    def reports(self) -> list:
        """Sanitizer findings kept in full (the first ``max_reports_per_kind`` of each kind); returns a list of
        Report, oldest first. ``report_counts()`` counts them all."""
        return [Report._from_net(r) for r in self._call("Reports")]

    def report_counts(self) -> dict:
        """Every sanitizer finding so far counted per kind, kept in full or not: {kind: count} over REPORT_KINDS."""
        return dict(zip(REPORT_KINDS, (int(c) for c in self._call("ReportCounts"))))

    def reports_frame(self):
        """The kept findings as a pandas DataFrame (kind, pfn, cpu, step, message, trace), one bulk transfer per
        column; trace is the simulated call path, innermost first."""
        import pandas as pd
        with self._lock:   # the columns of one moment
            kinds = np_copy(self._call("ReportKindColumn"), np.uint8)
            columns = {
                "kind": pd.Categorical.from_codes(kinds, categories=REPORT_KINDS),
                "pfn": np_copy(self._call("ReportPfnColumn"), np.int64),
                "cpu": np_copy(self._call("ReportCpuColumn"), np.int32),
                "step": np_copy(self._call("ReportStepColumn"), np.int64),
                "message": strs(self._call("ReportMessageColumn")),
                "trace": strs(self._call("ReportTraceColumn")),
            }
        return pd.DataFrame(columns)

    # -- inside the pages
    def page(self, pfn) -> "PageInfo":
        """One page as a kernel debugger shows it (PageInfo: flags by name, _count, _mapcount, page type, mapping,
        private, its pageblock's migratetype and skip bit, the list it is on, content token, kind).

        The list is named by following the page's lru.next to a list head, as crash's ``list`` would: a page deep in a
        long list (a balloon or LRU list of millions of pages) costs milliseconds. For many pages at once, use the
        whole-memory arrays (``page_map()``, ``kpageflags()``, ``page_flags()``)."""
        pfn = as_int("pfn", pfn, INT32)
        return PageInfo._from_net(self._call("Page", pfn))

    def page_flags(self) -> np.ndarray:
        """page->flags of every pfn (numpy uint32; bit i is PAGE_FLAGS[i], the v3.16 PG_ order): a fresh copy."""
        return self._live_copy("PageFlagsView", np.uint32)

    def _live_copy(self, view: str, dtype) -> np.ndarray:
        """One copy into numpy, straight from the engine's live array ``view``, while no other call can change it."""
        with self._lock:
            return np_copy(self._call(view), dtype)

    def kpageflags(self) -> np.ndarray:
        """/proc/kpageflags of every pfn (numpy uint64, KPF_* bits of include/uapi/linux/kernel-page-flags.h)."""
        return np_copy(self._call("KPageFlags"), np.uint64)

    @property
    def migratetypes(self) -> tuple:
        """The migratetype names of this design's page allocator, in number order (what pageblock_migratetypes() indexes)."""
        return tuple(strs(self._call("Migratetypes")))

    def pageblock_migratetypes(self) -> np.ndarray:
        """The migratetype of every pageblock in pfn order (numpy uint8 indexing ``migratetypes``: v3.16's names, the
        MIGRATETYPES constant, in the older designs; 6.1's, with HighAtomic and CMA, in v6.1)."""
        return np_copy(self._call("PageblockMigratetypes"), np.uint8)

    @property
    def reported_free_pages(self) -> int:
        """Free pages in blocks the kernel has marked PG_reported: free page reporting told the host of them
        (``free_page_reporting=True``) and the guest has not taken them since. A reported block that merges with its
        free buddy loses the mark until the bigger block is reported in turn."""
        return int(self._get("ReportedFreePages"))

    def balloon_unmovable(self) -> np.ndarray:
        """Balloon pages compaction can never isolate again (legacy's defect 2), a numpy bool mask over pfns."""
        return self._mask("BalloonUnmovable")

    def zones(self) -> list:
        """The zones in pfn order: a list of (name, start_pfn, end_pfn), end exclusive."""
        with self._lock:
            return list(zip(strs(self._call("ZoneNames")), [int(v) for v in self._call("ZoneStarts")],
                            [int(v) for v in self._call("ZoneEnds")]))

    def pageblock_skip(self) -> np.ndarray:
        """The compaction skip bit (PB_migrate_skip) of every pageblock in pfn order (numpy bool)."""
        return self._mask("PageblockSkip")

    def _mask(self, call: str) -> np.ndarray:
        """A bool mask the engine hands over as its bytes (0 or 1 each, a fresh copy), viewed as numpy bool."""
        return np_copy(self._call(call), np.uint8).view(np.bool_)

    def history(self):
        """Metrics recorded per step; returns a pandas DataFrame, one row per step, the op column first.

        A step is an operation (``"workload.anon"``, ``"balloon.inflate"``, ...) or an OOM kill during one, which gets
        a row of its own named for its victim (``"oom_kill pid 1000"``), before the row of the operation it ended.
        """
        import pandas as pd
        with self._lock:   # the rows, their columns and their ops of one moment
            columns = strs(self._call("HistoryColumns"))
            values = np_copy(self._call("HistoryValues"), np.float64).reshape(-1, len(columns))
            ops = strs(self._call("HistoryOps"))   # what each step did, e.g. "workload.anon"
        # Counters come back as doubles; integral columns get an integer dtype. The frame is built from one int64 block,
        # the few other columns put in their places: a frame built column by column took five times as long.
        integral = (len(values) > 0) & np.isfinite(values).all(axis=0) & (values == np.round(values)).all(axis=0)
        frame = pd.DataFrame(values[:, integral].astype(np.int64), columns=[c for c, i in zip(columns, integral) if i],
                             copy=False)
        for i in np.flatnonzero(~integral):   # in column order: the columns before each are in place
            frame.insert(int(i), columns[i], values[:, i])
        frame.insert(0, "op", ops)
        return frame

    def processes(self):
        """The workload's processes, one row each in pid order (a pandas DataFrame): ``pid``, ``comm``, and their mm's
        counters in pages: ``total_vm`` (munmap takes freed pages off it), ``anon_rss`` (MM_ANONPAGES), ``swapents``
        (MM_SWAPENTS), ``nr_ptes`` (PTE tables) and ``pgtables`` (page-table pages of every level, 6.1's
        ``mm_pgtables_bytes`` / 4096); ``oom_score_adj``; ``memdie`` (the OOM killer chose it) and ``exited`` (its mm is
        gone); its task's ``min_flt`` and ``maj_flt`` (faults that completed without and with a read from the disk: a
        thrashing process's major faults). What the OOM killer weighs: v3.16 ``anon_rss + nr_ptes + swapents``, 6.1 ``anon_rss + swapents + pgtables``.
        ``anon_rss`` and ``swapents`` are the mm's counts, as the kernel reads them (get_mm_counter): a process's own faults
        reach them only at every 66th fault of its own (SPLIT_RSS_COUNTING), at its own munmap and at its exit, so they
        may trail its page table by up to 66 pages.
        """
        import pandas as pd
        with self._lock:   # the values and the comms of one moment
            values = np_copy(self._call("ProcessValues"), np.int64).reshape(-1, len(_PROCESS_COLUMNS))
            comms = strs(self._call("ProcessComms"))
        frame = pd.DataFrame(values, columns=list(_PROCESS_COLUMNS))
        for flag in ("memdie", "exited"):
            frame[flag] = frame[flag].astype(bool)
        frame.insert(1, "comm", comms)
        return frame
