"""Reusable experiments on ballooned guests; each returns a pandas DataFrame.

    from balloonscript import experiments as ex
    ex.compaction_passes("legacy", memory_mib=512, passes=3, seed=1)   # one row per pass
    ex.lru_lock_blocks("redesign", memory_mib=256, seed=1)             # one row
    ex.canonical("fixed")                                               # the demo's experiment, one row
    ex.compare(ex.compaction_passes, passes=3)                          # every design, a ``design`` column

Every experiment builds its guest with :func:`ballooned_guest` (workload, holes, balloon, then the
workload shrinking around the balloon) and measures it with :func:`measure`, :func:`compact` and
:func:`compact_and_allocate` (states suffixed ``_before`` / ``_compacted``), so the columns mean the same
thing everywhere:

- ``migrated``, ``failed``, ``isolated``: the compaction run's outcome (CompactResult);
- ``balloon_migrated``: balloon pages migrated by that run (vmstat ``balloon_migrate`` delta);
- ``balloon_pages``: pages in the balloon; ``balloon_unmovable``: balloon pages reported as never movable
  again (legacy: a balloon page migrated once lost its mapping, defect 2); ``balloon_movable``: the rest;
- ``balloon_only_blocks``: pageblocks holding balloon pages and no LRU page (legacy never isolates there,
  defect 3);
- ``order9_blocks``: 2 MiB huge pages allocatable without compaction, Σ over orders o ≥ 9 of
  nr_free[o]·2^(o−9); ``extfrag_9``, ``unusable_9``: the debugfs indices at order 9;
- ``findings``: sanitizer reports so far, and ``findings_<kind>`` per kind that occurred (0 elsewhere).

Deterministic: the same arguments give the same frame (every random choice comes from ``seed``).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .sweep import sweep as _sweep
from ._convert import as_int, as_real
from .simulation import DESIGNS, MAX_ORDER, MAX_RUN_MS, PAGEBLOCK_ORDER, PAGES_PER_MIB, REPORT_KINDS, PageKind, Simulation

ORDER = PAGEBLOCK_ORDER   # a 2 MiB huge page
PAGEBLOCK_PAGES = 1 << ORDER
_LRU_KINDS = (PageKind.anon.value, PageKind.file.value)


# --------------------------------------------------------------------------- building blocks

def ballooned_guest(design: str, memory_mib: int = 512, seed: int = 1, cpus: int = 1, *, anon: float = 0.6,
                    file: float = 0.0, slab: float = 0.0, holes: float = 0.5, balloon: float = 0.2,
                    shrink: float = 0.5, shrink_pattern: str = "random", **options) -> Simulation:
    """A guest whose balloon pages sit among free holes and LRU pages.

    Sizes are shares of ``memory_mib``: populate ``anon``/``file``/``slab``, free ``holes`` of it
    interleaved (every other page at 0.5), inflate the balloon by ``balloon`` (fill_balloon takes order-0
    pages first, so it fills the holes), then free ``shrink`` of the workload in ``shrink_pattern``
    (processes exiting around the balloon; 1.0 leaves pageblocks of balloon pages and free pages only).
    Other keyword arguments are Simulation options.
    """
    sim = Simulation(memory_mib=memory_mib, design=design, cpus=cpus, seed=seed, **options)
    for name, populate, share in (("anon", sim.workload.anon, anon), ("file", sim.workload.file, file),
                                  ("slab", sim.workload.slab, slab)):
        if as_real(name, share):
            populate(mib=memory_mib * share)
    sim.workload.free(fraction=holes, pattern="interleave", seed=seed + 1)
    sim.balloon.inflate(mib=memory_mib * as_real("balloon", balloon))
    if shrink:
        sim.workload.free(fraction=shrink, pattern=shrink_pattern, seed=seed + 2)
    return sim


def order9_blocks(sim: Simulation) -> int:
    """Order-9 blocks the buddy allocator can hand out now: an order-10 block counts twice."""
    fb = sim.free_blocks()[ORDER:MAX_ORDER]
    return int((fb << np.arange(len(fb))).sum())


def balloon_only_blocks(sim: Simulation) -> int:
    """Pageblocks holding balloon pages and no LRU (anon or file) page."""
    pm = sim.page_map()
    blocks = pm[:pm.size // PAGEBLOCK_PAGES * PAGEBLOCK_PAGES].reshape(-1, PAGEBLOCK_PAGES)
    has_balloon = (blocks == PageKind.balloon.value).any(axis=1)
    has_lru = np.isin(blocks, _LRU_KINDS).any(axis=1)
    return int((has_balloon & ~has_lru).sum())


def measure(sim: Simulation) -> dict:
    """The state metrics of the module docstring, for one guest now."""
    kinds = sim.report_counts()   # every finding, kept in full or not
    row = {"balloon_pages": sim.balloon.pages,
           "balloon_unmovable": kinds.get("balloon_unmovable", 0),
           "balloon_only_blocks": balloon_only_blocks(sim),
           "order9_blocks": order9_blocks(sim),
           "extfrag_9": sim.extfrag_index(ORDER),
           "unusable_9": sim.unusable_index(ORDER),
           "findings": sum(kinds.values())}
    row["balloon_movable"] = row["balloon_pages"] - row["balloon_unmovable"]
    row.update({f"findings_{k}": kinds.get(k, 0) for k in REPORT_KINDS})
    return row


def compact(sim: Simulation) -> dict:
    """One full compaction (compact_memory): its outcome and the balloon pages it migrated."""
    before = sim.vmstat()["balloon_migrate"]
    r = sim.compact()
    return {"migrated": r.migrated, "failed": r.failed, "isolated": r.isolated,
            "balloon_migrated": sim.vmstat()["balloon_migrate"] - before}


def _state(sim: Simulation, suffix: str) -> dict:
    """measure() without the findings, names suffixed (e.g. order9_blocks_before)."""
    return {k + suffix: v for k, v in measure(sim).items() if not k.startswith("findings")}


def _frame(rows) -> pd.DataFrame:
    """Rows (or a frame) to a frame; a findings_<kind> column missing from a row means none of that kind."""
    df = pd.DataFrame(rows)
    counts = [c for c in df.columns if c.startswith("findings_")]
    df[counts] = df[counts].fillna(0).astype(np.int64)
    return df


# --------------------------------------------------------------------------- experiments

def compaction_passes(design: str, memory_mib: int = 512, passes: int = 3, seed: int = 1, *,
                      refill: float = 20 / 512, refree: float = 0.3) -> pd.DataFrame:
    """Repeated compaction of a ballooned guest whose balloon pages share pageblocks with LRU pages and holes.

    Row ``pass`` 0 is the guest before any compaction; each later pass runs compact_memory, measures, then
    fragments again a little (a process faults in ``refill`` of memory, ``refree`` of the workload is freed
    at random). Legacy (defect 2): a balloon page compaction migrated has lost its balloon mapping, so the
    next passes cannot move it; ``balloon_unmovable`` grows pass after pass. Redesign and fixed keep every
    balloon page movable.
    """
    passes = as_int("passes", passes, (1, 1000))
    refill, refree = as_real("refill", refill), as_real("refree", refree)
    sim = ballooned_guest(design, memory_mib, seed, anon=300 / 512, balloon=100 / 512, shrink=0.5)
    rows = [{"pass": 0, "migrated": 0, "failed": 0, "isolated": 0, "balloon_migrated": 0, **measure(sim)}]
    for p in range(1, passes + 1):
        rows.append({"pass": p, **compact(sim), **measure(sim)})
        if p < passes:
            sim.workload.anon(mib=memory_mib * refill)
            sim.workload.free(fraction=refree, pattern="random", seed=seed + 2 + p)
    return _frame(rows)


def lru_lock_guest(design: str, memory_mib: int = 256, seed: int = 1) -> Simulation:
    """Pageblocks of balloon pages and free pages only: anon fills 5/8 of memory, every other page is freed,
    the balloon fills exactly those holes, then every anon page is freed."""
    return ballooned_guest(design, memory_mib, seed, anon=5 / 8, holes=0.5, balloon=5 / 16, shrink=1.0,
                           shrink_pattern="interleave")


def lru_lock_blocks(design: str, memory_mib: int = 256, seed: int = 1, *, allocations: int | None = None
                    ) -> pd.DataFrame:
    """:func:`compact_and_allocate` on :func:`lru_lock_guest`.

    Legacy (defect 3, v3.16 isolate_migratepages_range) isolates a balloon page only with lru_lock held, and
    takes lru_lock only at an LRU page: none here, so no balloon page moves and the free pages between them
    stay order 0. Redesign and fixed isolate them regardless.
    """
    return _frame([compact_and_allocate(lru_lock_guest(design, memory_mib, seed), allocations)])


def canonical_guest(design: str, memory_mib: int = 1024, seed: int = 1, *, exiting: float = 0.85) -> Simulation:
    """The guest of the canonical experiment (design.md §5): anon, page cache and slab, half of it freed
    interleaved, a balloon of a quarter of memory inflated into the holes, then most of the workload exiting
    (``exiting`` of its pages freed at random)."""
    return ballooned_guest(design, memory_mib, seed, anon=0.6, file=0.25, slab=1 / 64, holes=0.5,
                           balloon=0.25, shrink=as_real("exiting", exiting))


def compact_and_allocate(sim: Simulation, allocations: int | None = None, after_compaction=None) -> dict:
    """compact_memory on ``sim``, then ``allocations`` order-9 allocations with direct compaction (default:
    one per pageblock). One row: the state ``*_before``, the compaction, the state ``*_compacted`` (when
    ``after_compaction(sim)`` is called too, e.g. to draw the page map), ``allocated`` (successes), the
    balloon pages direct compaction migrated meanwhile, and the final state (with the findings)."""
    if allocations is None:
        allocations = sim.memory_mib * PAGES_PER_MIB // PAGEBLOCK_PAGES
    allocations = as_int("allocations", allocations, (0, 1 << 31))
    row = _state(sim, "_before")
    row.update(compact(sim))
    row.update(_state(sim, "_compacted"))
    if after_compaction is not None:
        after_compaction(sim)
    balloon_before = sim.vmstat()["balloon_migrate"]
    row["allocated"] = sim.allocate(order=ORDER, count=allocations) if allocations else 0
    row["balloon_migrated_direct"] = sim.vmstat()["balloon_migrate"] - balloon_before
    row.update(measure(sim))
    return row


def canonical(design: str, memory_mib: int = 1024, seed: int = 1, *, exiting: float = 0.85,
              allocations: int | None = None) -> pd.DataFrame:
    """The canonical experiment (``make demo``): :func:`compact_and_allocate` on :func:`canonical_guest`.

    Both legacy defects that cost huge pages show: balloon pages in pageblocks the exiting workload left
    without LRU pages are never isolated (defect 3), and those compaction does migrate are stranded
    (defect 2: ``balloon_unmovable``). Redesign and fixed migrate them all and keep them movable.
    """
    return _frame([compact_and_allocate(canonical_guest(design, memory_mib, seed, exiting=exiting), allocations)])


# --------------------------------------------------------------------------- what a real guest can be compared with
# Three experiments a real 2 GiB guest (DMA + DMA32 zones) can repeat: each returns one row of the kernel counters
# and /proc text that guest would show (/proc/vmstat's names; buddyinfo as text; free blocks per order).

# The "small userspace" of a freshly booted guest: a few processes, their page cache, the kernel's slab.
FRESH_USERSPACE = {"anon": 48, "file": 40, "slab": 8}
_COUNTERS = ("nr_free_pages", "nr_file_pages", "nr_anon_pages", "balloon_inflate", "balloon_deflate", "balloon_migrate",
             "compact_migrate_scanned", "compact_free_scanned", "compact_isolated", "compact_stall", "pgmigrate_success",
             "pgmigrate_fail")


def fresh_guest(design: str, memory_mib: int = 2048, seed: int = 1, **options) -> Simulation:
    """A freshly booted guest with a small userspace (:data:`FRESH_USERSPACE`, MiB); other keyword arguments are
    Simulation options."""
    sim = Simulation(memory_mib=memory_mib, design=design, seed=seed, **options)
    sim.workload.anon(mib=FRESH_USERSPACE["anon"])
    sim.workload.file(mib=FRESH_USERSPACE["file"])
    sim.workload.slab(mib=FRESH_USERSPACE["slab"])
    return sim


def _kernel_row(sim: Simulation, suffix: str = "") -> dict:
    """The counters a real guest shows (/proc/vmstat names, those the design's kernel has), free blocks per order
    (as /proc/buddyinfo sums them over zones) and the buddyinfo text, names suffixed."""
    v = sim.vmstat()
    row = {k + suffix: v[k] for k in _COUNTERS if k in v}
    row.update({f"free_order{o}{suffix}": int(n) for o, n in enumerate(sim.free_blocks())})
    row["buddyinfo" + suffix] = sim.buddyinfo()
    return row


def fresh_inflate(design: str, memory_mib: int = 2048, seed: int = 1, *, balloon_mib: float = 512) -> pd.DataFrame:
    """``fresh-inflate``: a freshly booted guest inflates ``balloon_mib``; counts the balloon pages that sit in
    pageblocks holding only balloon pages (fill_balloon takes order-0 pages: on a fresh guest it splits large free
    blocks, so whole pageblocks fill with balloon pages)."""
    sim = fresh_guest(design, memory_mib, seed)
    before = _kernel_row(sim, "_before")
    sim.balloon.inflate(mib=as_real("balloon_mib", balloon_mib))
    pm = sim.page_map()
    blocks = pm[:pm.size // PAGEBLOCK_PAGES * PAGEBLOCK_PAGES].reshape(-1, PAGEBLOCK_PAGES)
    only = (blocks == PageKind.balloon.value).all(axis=1)
    return _frame([{**before, **_kernel_row(sim), "balloon_pages": sim.balloon.pages,
                    "balloon_only_pageblocks": int(only.sum()),
                    "balloon_pages_in_balloon_only_pageblocks": int(only.sum()) * PAGEBLOCK_PAGES}])


def cache_holes_guest(design: str, memory_mib: int = 2048, seed: int = 1, *, cache_mib: float = 1024) -> Simulation:
    """The fresh guest after it read ``cache_mib`` of page cache and freed every other page of the page cache
    (interleaved; the userspace's own few MiB of cache included)."""
    sim = fresh_guest(design, memory_mib, seed)
    sim.workload.file(mib=as_real("cache_mib", cache_mib))
    sim.workload.free(fraction=0.5, pattern="interleave", kind="file")
    return sim


def cache_holes_inflate(design: str, memory_mib: int = 2048, seed: int = 1, *, cache_mib: float = 1024,
                        balloon_mib: float = 512) -> pd.DataFrame:
    """``cache-holes-inflate``: :func:`cache_holes_guest`, then the balloon inflates ``balloon_mib``. /proc/buddyinfo
    before and after, and how many order-0 free blocks the balloon took (fill_balloon's order-0 allocations come
    from the order-0 free lists first: the holes)."""
    sim = cache_holes_guest(design, memory_mib, seed, cache_mib=cache_mib)
    before = _kernel_row(sim, "_before")
    sim.balloon.inflate(mib=as_real("balloon_mib", balloon_mib))
    after = _kernel_row(sim)
    return _frame([{**before, **after, "balloon_pages": sim.balloon.pages,
                    "order0_blocks_taken": before["free_order0_before"] - after["free_order0"]}])


def compact_after_inflate(design: str, memory_mib: int = 2048, seed: int = 1, *, cache_mib: float = 1024,
                          balloon_mib: float = 512, more_free: float = 0.5) -> pd.DataFrame:
    """``compact-after-inflate``: after :func:`cache_holes_inflate`, compact_memory once (balloon pages migrated,
    order-9/10 free blocks), then ``more_free`` of the remaining workload is freed at random and compact_memory runs
    again. One row, the two compactions' counters suffixed ``_1`` and ``_2``."""
    sim = cache_holes_guest(design, memory_mib, seed, cache_mib=cache_mib)
    sim.balloon.inflate(mib=as_real("balloon_mib", balloon_mib))
    row = {"balloon_pages": sim.balloon.pages}
    for n in (1, 2):
        if n == 2:
            sim.workload.free(fraction=as_real("more_free", more_free), pattern="random")
        row.update({f"{k}_{n}": v for k, v in compact(sim).items()})
        row.update(_kernel_row(sim, f"_{n}"))
        row[f"order9_blocks_{n}"] = order9_blocks(sim)
    kinds = sim.report_counts()
    row.update({"findings": sum(kinds.values()), **{f"findings_{k}": kinds[k] for k in REPORT_KINDS}})
    return _frame([row])


# --------------------------------------------------------------------------- live migration

GIVE_BACK = ("none", "balloon", "reporting", "hinting")


def migrate_after_free(design: str, memory_mib: int = 1024, seed: int = 1, *, used: float = 0.6, freed: float = 1.0,
                       give_back: str = "none", bandwidth_mib_s: float = 128, downtime_limit_ms: float = 300
                       ) -> pd.DataFrame:
    """``migrate-after-free``: a guest writes ``used`` of its memory and frees ``freed`` of that (at random), then is
    live-migrated (``sim.host.migrate``) after ``give_back`` tells the host about the free memory: "none"; "balloon"
    (the balloon inflates by what was freed, up to what the guest can give); "reporting" (free page reporting, v6.1, ten
    seconds after the frees); or "hinting" (free page hinting during the migration, v6.1). One row: the migration's
    counts (``transferred`` bytes, ``normal`` pages sent whole, ``duplicate`` zero pages, ``hinted_pages``, times in
    ms), the host's resident pages before (``source_resident``) and on the destination after, and the findings."""
    if give_back not in GIVE_BACK:
        raise ValueError(f"give_back must be one of {', '.join(GIVE_BACK)}, got {give_back!r}")
    options = {"reporting": {"free_page_reporting": True}, "hinting": {"free_page_hint": True}}.get(give_back, {})
    sim = Simulation(memory_mib=memory_mib, design=design, seed=seed, **options)
    sim.workload.anon(mib=memory_mib * as_real("used", used))
    sim.workload.free(fraction=as_real("freed", freed), pattern="random", seed=seed + 1)
    if give_back == "balloon":
        sim.balloon.inflate(mib=min(memory_mib * used * freed, sim.balloon.inflatable_pages / PAGES_PER_MIB))
    elif give_back == "reporting":
        sim.run(10_000)
    source = sim.host.resident_pages
    row = sim.host.migrate(bandwidth_mib_s=bandwidth_mib_s, downtime_limit_ms=downtime_limit_ms)
    kinds = sim.report_counts()
    return _frame([{**row, "source_resident": source, "destination_resident": sim.host.resident_pages,
                    "findings": sum(kinds.values()), **{f"findings_{k}": kinds[k] for k in REPORT_KINDS}}])


# --------------------------------------------------------------------------- the host's khugepaged

def _ballooned_on_thp_host(design, memory_mib, seed, used, freed, balloon, **host) -> Simulation:
    """A guest on a host with THP (and the ``host`` options) that wrote ``used`` of its memory, freed ``freed`` of that
    at random and inflated a balloon of ``balloon`` of its memory (as much as it could)."""
    sim = Simulation(memory_mib=memory_mib, design=design, seed=seed, host_thp=True, **host)
    sim.workload.anon(mib=memory_mib * as_real("used", used))
    sim.workload.free(fraction=as_real("freed", freed), pattern="random", seed=seed + 1)
    sim.balloon.inflate(mib=min(memory_mib * as_real("balloon", balloon), sim.balloon.inflatable_pages / PAGES_PER_MIB))
    return sim


def khugepaged_after_inflate(design: str, memory_mib: int = 1024, seed: int = 1, *, used: float = 0.8,
                             freed: float = 0.5, balloon: float = 0.4, idle_s: float = 660,
                             max_ptes_none: int | None = None, scan_sleep_ms: int | None = None) -> pd.DataFrame:
    """``khugepaged-after-inflate``: on a host with transparent huge pages (``host_thp=True``), a guest writes ``used``
    of its memory, frees ``freed`` of that at random, and inflates a balloon of ``balloon`` of its memory, whose
    scattered 4 KiB frames split the host's huge pages; then it idles ``idle_s`` simulated seconds (the default: one
    pass of the host's khugepaged over 1 GiB at its default pace) while khugepaged collapses the split regions and backs
    their holes again. ``max_ptes_none`` and ``scan_sleep_ms`` are the host's khugepaged settings (None: 511 and
    10,000). One row: the host's resident pages after the inflation and after the idle time, the frames split huge
    pages hold then (``deferred_split_*``: unmapped, not freed; the host's memory in use is resident plus these), the
    ballooned pages it backs again, the huge pages split, khugepaged's counts (``pages_collapsed``, ``full_scans``,
    ``thp_scan_exceed_none_pte``) and the findings."""
    idle_ms = as_real("idle_s", idle_s) * 1000
    if not 0 <= idle_ms <= MAX_RUN_MS:
        raise ValueError(f"idle_s must be in [0, {MAX_RUN_MS / 1000:g}] (a simulated day), got {idle_s}")
    sim = _ballooned_on_thp_host(design, memory_mib, seed, used, freed, balloon, host_khugepaged_max_ptes_none=max_ptes_none,
                                 host_khugepaged_scan_sleep_ms=scan_sleep_ms)
    inflated, held = sim.host.resident_pages, sim.host.deferred_split_pages
    sim.run(idle_ms)
    k = sim.host.khugepaged()
    kinds = sim.report_counts()
    return _frame([{"balloon_pages": sim.balloon.pages, "host_resident_inflated": inflated,
                    "host_resident_idle": sim.host.resident_pages, "deferred_split_inflated": held,
                    "deferred_split_idle": sim.host.deferred_split_pages,
                    "ballooned_resident": sim.host.ballooned_resident_pages, "thp_splits": sim.host.thp_splits,
                    **{name: k[name] for name in ("pages_collapsed", "full_scans", "thp_scan_exceed_none_pte")},
                    "findings": sum(kinds.values()), **{f"findings_{k}": kinds[k] for k in REPORT_KINDS}}])


def reuse_after_deflate(design: str, memory_mib: int = 1024, seed: int = 1, *, used: float = 0.8, freed: float = 0.5,
                        balloon: float = 0.4, memory_max_mib: int | None = None,
                        max_ptes_none: int | None = 0) -> pd.DataFrame:
    """``reuse-after-deflate``: on a host with transparent huge pages, a guest writes ``used`` of its memory, frees
    ``freed`` of that at random and inflates a balloon of ``balloon`` of its memory (its 4 KiB frames split the host's
    huge pages, which keep holding them), then deflates it and writes as much again: each frame written again gets a
    new host page beside the held one. ``memory_max_mib`` is the memory.max of QEMU's cgroup (None: no limit), at which
    the cgroup's reclaim splits the held huge pages; ``max_ptes_none`` is khugepaged's (0 by default, so that its
    collapses do not free the held frames first). One row: the frames held after the inflation, the host's resident and
    held frames at the end, the pages charged (``memory_current``), memory.events' max, the huge pages split and
    khugepaged's failed collapses (``scan_cgroup_charge_fail``), and the findings."""
    sim = _ballooned_on_thp_host(design, memory_mib, seed, used, freed, balloon, host_khugepaged_max_ptes_none=max_ptes_none,
                                 host_memory_max_mib=memory_max_mib)
    held, ballooned = sim.host.deferred_split_pages, sim.balloon.pages
    sim.balloon.deflate(mib=ballooned / PAGES_PER_MIB)
    sim.workload.anon(mib=ballooned / PAGES_PER_MIB)
    memcg, kinds = sim.host.memcg(), sim.report_counts()
    return _frame([{"balloon_pages": ballooned, "deferred_split_inflated": held, "host_resident": sim.host.resident_pages,
                    "deferred_split": sim.host.deferred_split_pages, "memory_current": memcg["memory_current"],
                    "memory_events_max": memcg["memory_events_max"], "thp_splits": sim.host.thp_splits,
                    "scan_cgroup_charge_fail": sim.host.khugepaged()["scan_cgroup_charge_fail"],
                    "findings": sum(kinds.values()), **{f"findings_{k}": kinds[k] for k in REPORT_KINDS}}])


# --------------------------------------------------------------------------- pressure under a balloon

# The PSI totals (microseconds) reread_rounds takes the growth of, and the events it counts.
_PRESSURE = tuple((resource, line) for resource in ("memory", "io") for line in ("some", "full"))
_REREAD_EVENTS = ("workingset_refault", "workingset_activate", "workingset_restore_file", "pgpgin", "oom_kill")


def _pressure_totals(sim: Simulation) -> dict:
    """The PSI totals so far (µs), by (resource, line); empty for a kernel without PSI (before 4.20)."""
    if not sim.has_psi:
        return {}
    read = {resource: sim.pressure(resource) for resource in ("memory", "io")}
    return {(resource, line): read[resource][line]["total"] for resource, line in _PRESSURE}


def _reread_args(rounds, touch, think_ms) -> tuple:
    """reread_rounds' arguments checked, each by its name."""
    rounds, touch, think_ms = as_int("rounds", rounds, (1, 10_000)), as_real("touch", touch), as_real("think_ms", think_ms)
    if not 0 <= touch <= 1:
        raise ValueError(f"touch must be in [0, 1] (a share of the page cache), got {touch!r}")
    if not 0 <= think_ms <= MAX_RUN_MS:
        raise ValueError(f"think_ms must be in [0, {MAX_RUN_MS}] (a simulated day), got {think_ms!r}")
    return rounds, touch, think_ms


def _populate(name: str, populate, mib) -> None:
    """``populate(mib=...)`` with an error naming the experiment's argument ``name``."""
    try:
        populate(mib=mib)
    except ValueError as e:
        raise ValueError(f"{name}: {e}") from None


def reread_rounds(sim: Simulation, rounds: int = 1, seed: int = 1, *, touch: float = 0.3,
                  think_ms: float = 200) -> dict:
    """Run ``rounds`` rounds of a rereading workload on ``sim`` and measure them: each round its processes read a
    random ``touch`` of their page cache (pages reclaim evicted are read back from the file, ``io_latency_ms`` each:
    refaults) and then think ``think_ms`` (simulated time passes: kswapd and the other timers run). Returns the rounds'
    simulated seconds, the share of that time under pressure (``memory_some_pct``, ``memory_full_pct``,
    ``io_some_pct``, ``io_full_pct``: the growth of the PSI totals over it, in percent; NaN for a kernel before 4.20,
    which has no PSI) and the events counted meanwhile (refaults, their activations, 6.1's workingset restores,
    ``pgpgin`` in KiB, OOM kills). ``seed`` picks the pages, round by round."""
    return _reread(sim, *_reread_args(rounds, touch, think_ms), seed)


def _reread(sim: Simulation, rounds: int, touch: float, think_ms: float, seed: int) -> dict:
    """:func:`reread_rounds` on checked arguments."""
    start_ms, totals, events = sim.clock_ms, _pressure_totals(sim), sim.vmstat()
    for i in range(rounds):
        sim.workload.touch(fraction=touch, kind="file", pattern="random", seed=seed + i)
        sim.run(think_ms)
    elapsed_us = (sim.clock_ms - start_ms) * 1000
    after, vm = _pressure_totals(sim), sim.vmstat()
    row = {"elapsed_s": elapsed_us / 1e6}
    for key in _PRESSURE:
        row["_".join(key) + "_pct"] = 100 * (after[key] - totals[key]) / elapsed_us if after and elapsed_us else np.nan
    return row | {name: vm[name] - events[name] for name in _REREAD_EVENTS}


def pressure_under_balloon(design: str, memory_mib: int = 128, seed: int = 1, *, anon_mib: float = 24,
                           file_mib: float = 64, balloon_mib: float = 32, rounds: int = 10, touch: float = 0.3,
                           think_ms: float = 200) -> pd.DataFrame:
    """``pressure-under-balloon``: how much a balloon costs a guest that keeps rereading its files. Its processes hold
    ``anon_mib`` of anonymous memory and have read a ``file_mib`` file; the host inflates a balloon of ``balloon_mib``
    (as much as the guest gives), then the guest runs ``rounds`` rounds of :func:`reread_rounds` (a random ``touch`` of
    the file read, ``think_ms`` of thinking). One row: the balloon's size (``balloon_pages``), what
    :func:`reread_rounds` measures (the pressure in percent of the rounds' time, NaN before 4.20; refaults, activations,
    restores, reads, OOM kills) and the findings. Sweep ``balloon_mib`` for the pressure curve (notebook 04)."""
    balloon_mib = as_real("balloon_mib", balloon_mib)
    if balloon_mib < 0:
        raise ValueError(f"balloon_mib must be at least 0, got {balloon_mib!r}")
    rounds, touch, think_ms = _reread_args(rounds, touch, think_ms)
    sim = Simulation(memory_mib=memory_mib, design=design, seed=seed)
    _populate("anon_mib", sim.workload.anon, anon_mib)
    _populate("file_mib", sim.workload.file, file_mib)
    balloon_mib = min(balloon_mib, sim.balloon.inflatable_pages / PAGES_PER_MIB)
    if balloon_mib:
        sim.balloon.inflate(mib=balloon_mib)
    row = {"balloon_pages": sim.balloon.pages,
           **_reread(sim, rounds, touch, think_ms, seed)}
    kinds = sim.report_counts()
    return _frame([row | {"findings": sum(kinds.values()), **{f"findings_{k}": kinds[k] for k in REPORT_KINDS}}])


# The experiments above, by name (the command line's job files name them).
EXPERIMENTS = ("compaction_passes", "lru_lock_blocks", "canonical", "fresh_inflate", "cache_holes_inflate",
               "compact_after_inflate", "migrate_after_free", "khugepaged_after_inflate", "reuse_after_deflate",
               "pressure_under_balloon")


def compare(experiment=compaction_passes, designs=DESIGNS, seeds=(1,), progress: bool = True, workers: int = 1,
            **kwargs) -> pd.DataFrame:
    """Run ``experiment(design, seed=seed, **kwargs)`` for every design and seed; one frame with ``design``
    and ``seed`` as its first columns (rows in the order designs x seeds). ``workers > 1`` runs them in
    parallel processes (see balloonscript.sweep)."""
    designs, seeds = list(designs), [as_int("seeds", s) for s in seeds]
    if not designs:
        raise ValueError("designs must name at least one of " + ", ".join(DESIGNS))
    if not seeds:
        raise ValueError("seeds must hold at least one seed")
    return _frame(_sweep(experiment, {"design": designs, "seed": seeds}, workers=workers,
                         progress=progress and len(designs) * len(seeds) > 1, **kwargs))
