"""The soak (``make soak``; a short run is part of ``make test``): random operations on every design, every scenario
explored under every design, and the exploration of issue 7 that used to hang. Deterministic for a seed.

    python tests/soak.py [--ops 10000000] [--schedules 3000] [--seed 1] [--threads N] [--issue-exploration]

1. Random operations through the public API (populate, free, inflate, deflate, compact, allocate, and refused
   calls) on fresh small guests (16-32 MiB, a third on a host with THP, each a function of the seed, run by a pool of
   threads); the engine's page-state checks run after every operation, the Python-side invariants (the host's memory
   among them) every few. Findings allowed: legacy's balloon_unmovable (defect 2); nothing else.
2. Every scenario under every design with the random and pct strategies. Findings allowed: any in legacy (all
   four defects); in redesign the residual next-cursor race of the dequeue walk (deflate-vs-isolate: list_corruption
   only; deflate-vs-migrate: a failing schedule whose first report is list_corruption in balloon_page_dequeue) and
   the race between the driver's release and migration (deflate-vs-migrate, and newpage-after-unlock, the preset
   written for the 2019 newpage race, which reaches it too: the first report a bad_page or vm_bug where the driver or
   migration drops a reference the other one already dropped, because leak_balloon puts its pages by pfns a migration
   has rewritten since it dropped balloon_lock: f68b992, fixed in fixed; the 2019 window itself only sends newpage
   through an LRU list in redesign, docs/model.md); nothing in fixed or in the later designs.
3. Races written through the API around a pass of 6.1's free page reporting (``bs.op.report()``, a 128 MiB v6.1 guest
   with free_page_reporting, reclaim, swap, page cache and a balloon, with and without per-cpu lists): the pass on one
   CPU, each other operation on a second, another on a third, with the random and pct strategies (a third of
   --schedules each: its guests are eight times the size of the scenarios'). Findings allowed: none.
4. With --issue-exploration: deflate-vs-migrate, legacy, dfs, depth 3, 98,450 schedules (it spun forever in a
   page-state check before the list walks were bounded).

Prints ops/s, schedules/s and the findings per design; exits 1 on any finding not allowed.
"""
from __future__ import annotations

import argparse
import collections
import itertools
import os
import random
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))

import numpy as np  # noqa: E402

import balloonscript as bs  # noqa: E402

OPS_ALLOWED = {design: ({"balloon_unmovable"} if design == "legacy" else set()) for design in bs.DESIGNS}
# redesign's deflate-vs-migrate races, by the first report of a failing schedule: (kind, function it fired in).
REDESIGN_MIGRATE_RACES = {
    ("list_corruption", "balloon_page_dequeue"),   # the dequeue walk's next cursor (fixed in v4.5)
    ("bad_page", "release_pages_by_pfn"),          # the driver frees a page migration holds or gave away (f68b992)
    ("vm_bug", "release_pages_by_pfn"),            #   ... or one migration has freed already (put_page on _count 0)
    ("bad_page", "virtballoon_migratepage"),       # ... and migratepage then drops the old page's last reference
    ("bad_page", "unmap_and_move"),                # ... or unmap_and_move drops the last reference of a page the
    ("vm_bug", "unmap_and_move"),                  #   driver put by a rewritten pfn (newpage, or the old page)
}
CHECK_EVERY = 16   # operations between the Python-side invariant checks
KPF_BALLOON = np.uint64(23)   # include/uapi/linux/kernel-page-flags.h (v3.18)


def exploration_allowed(design: str, scenario: str, reports) -> bool:
    """Whether a failing schedule's reports are a finding the design is documented to have (see the module doc)."""
    if design == "legacy":
        return True
    if design == "redesign" and scenario == "deflate-vs-isolate":
        return all(r.kind == "list_corruption" for r in reports)
    if design == "redesign" and scenario in ("deflate-vs-migrate", "newpage-after-unlock"):
        return (reports[0].kind, reports[0].trace[-1]) in REDESIGN_MIGRATE_RACES
    return False


class Stop:
    """Set on Ctrl-C: the worker threads end after their current call."""
    event = threading.Event()


# --------------------------------------------------------------------------- 1. random operations

def random_op(rng: random.Random):
    """One operation: (text, call(sim)). Amounts are small and sometimes more than the guest has (refused)."""
    x = rng.random() ** 2
    kind = rng.choices(["anon", "file", "slab", "free", "inflate", "deflate", "compact", "allocate", "migrate", "run",
                        "drop_caches"], weights=[3, 2, 1, 3, 3, 1, 2, 1, 1, 1, 0.2])[0]
    if kind in ("anon", "file", "slab"):
        mib = round(x * (2 if kind == "slab" else 16), 2)
        return f"{kind}({mib})", lambda s: getattr(s.workload, kind)(mib=mib)
    if kind == "free":
        pattern, seed = rng.choice(bs.FREE_PATTERNS), rng.randrange(2**31)
        return f"free({x:.3f}, {pattern}, {seed})", lambda s: s.workload.free(fraction=x, pattern=pattern, seed=seed)
    if kind in ("inflate", "deflate"):
        mib = round(x * 4, 2)
        return f"{kind}({mib})", lambda s: getattr(s.balloon, kind)(mib=mib)
    if kind == "compact":
        return "compact", lambda s: s.compact()
    if kind == "migrate":   # refused while one runs; without waiting it goes on as later operations let time pass
        bandwidth, wait = rng.choice([1, 16, 128]), rng.random() < 0.5
        return f"migrate({bandwidth}, wait={wait})", lambda s: s.host.migrate(bandwidth_mib_s=bandwidth, wait=wait)
    if kind == "run":
        ms = round(x * 500, 1)
        return f"run({ms})", lambda s: s.run(ms)
    if kind == "drop_caches":   # the host's: the deferred-split queue emptied
        return "host.drop_caches", lambda s: s.host.drop_caches()
    order, count = rng.randrange(bs.MAX_ORDER), rng.randrange(4)
    return f"allocate({order}, {count})", lambda s: s.allocate(order=order, count=count)


def invariants(sim):
    """The cross-checks the engine's own checks do not make; a message, or None."""
    vm = sim.vmstat()
    if int((sim.free_blocks() << range(bs.MAX_ORDER)).sum()) != vm["nr_free_pages"]:
        return "free blocks do not add up to nr_free_pages"
    tagged = np.flatnonzero(sim.page_map() == bs.PageKind.balloon)
    parked = 0 if len(tagged) == sim.balloon.pages else parked_pages(sim, tagged)
    if not sim.balloon.pages == sim.host.ballooned_pages + sim.balloon.untold_pages == len(tagged) - parked:
        return (f"balloon {sim.balloon.pages}, host ledger {sim.host.ballooned_pages} (+{sim.balloon.untold_pages} not told yet), "
                f"pages tagged balloon {len(tagged)} "
                f"({parked} of them parked in a pagevec)")
    host = sim.host   # a fault maps 1 frame, or 512 with host THP; a huge page backs all of its own
    per_fault = 512 if sim.options["host_thp"] else 1
    memcg = host.memcg()   # QEMU's cgroup never past memory.max
    if not (host.huge_pages * 512 <= host.resident_pages <= per_fault * host.faults and host.refaults <= host.faults
            and 0 <= host.deferred_split_pages <= 511 * host.thp_splits
            and (memcg["memory_max"] is None or memcg["memory_current"] <= memcg["memory_max"])):
        return (f"host memory: {host.resident_pages} frames resident, {host.deferred_split_pages} held by split huge pages, "
                f"{host.huge_pages} huge pages, {host.faults} faults, {host.refaults} refaults, cgroup {memcg}")
    migration = host.migration()   # each frame sent, hinted or still to send; hint blocks held while one runs
    if migration["status"] != "none" and (migration["normal"] + migration["duplicate"] + migration["hinted_pages"]
                                          + migration["remaining"] < sim.page_map().size):
        return f"migration: {migration}"
    if migration["status"] != "active" and sim.balloon.hint_blocks:   # the hint work the DONE queued gives them back
        later = sim.fork()
        later.run(1)
        if later.balloon.hint_blocks:
            return f"{later.balloon.hint_blocks} hint blocks held 1 ms after the migration ended: {migration}"
    return None


def parked_pages(sim, tagged) -> int:
    """How many of the pages tagged balloon (the pfns ``tagged``) wait in a pagevec. A migrated balloon page's old page
    goes back through putback_lru_page (v3.18 unmap_and_move) and waits there, still tagged balloon, until the drain
    frees it. balloon_page_delete has cleared its PageBalloon, so only the tagged pages without KPF_BALLOON (all of
    them in legacy, which has no such bit) are looked at: sim.page walks a page's list to its head, and the balloon
    list holds thousands of pages."""
    former = tagged[(sim.kpageflags()[tagged] >> KPF_BALLOON & 1) == 0]
    return sum(sim.page(int(pfn)).list.startswith("lru_add_pvec") for pfn in former)


def guests(total: int, seed: int) -> list:
    """The guests of part 1: (design, guest seed, operations), the operations shared equally between the designs,
    in an order that alternates designs. A function of ``total`` and ``seed`` only."""
    per_design = []
    for k, design in enumerate(bs.DESIGNS):
        rng, left, mine = random.Random(f"{seed}/{design}"), total // len(bs.DESIGNS) + (k < total % len(bs.DESIGNS)), []
        while left > 0:
            n = min(rng.randint(50, 400), left)
            mine.append((design, rng.randrange(2**31), n))
            left -= n
        per_design.append(mine)
    return [g for batch in itertools.zip_longest(*per_design) for g in batch if g is not None]


def run_guest(design: str, guest_seed: int, ops: int) -> dict:
    """``ops`` random operations on a fresh guest; its counts, findings and problems."""
    rng = random.Random(guest_seed)
    args = dict(memory_mib=rng.choice([16, 24, 32]), design=design, cpus=rng.randint(1, 4), seed=guest_seed,
                per_cpu_lists=rng.random() < 0.3, host_thp=rng.random() < 0.3)
    args["free_page_hint"] = design == "v6.1" and rng.random() < 0.5
    if args["host_thp"] and rng.random() < 0.5:   # the host's khugepaged awake often enough to collapse within the runs
        args["host_khugepaged_scan_sleep_ms"] = rng.choice([1, 10, 100])
        args["host_khugepaged_max_ptes_none"] = rng.choice([0, 64, 511])
        args["host_khugepaged_pages_to_scan"] = rng.choice([None, 1, 1_000, 100_000])
    if args["host_thp"] and rng.random() < 0.5:   # QEMU's memory cgroup at the guest's RAM or a little above it
        args["host_memory_max_mib"] = args["memory_mib"] + rng.choice([0, 0, 1, 2])
    sim, log, refused, problems = bs.Simulation(**args), [], 0, []
    for i in range(ops):
        text, call = random_op(rng)
        log.append(text)
        try:
            call(sim)
        except ValueError:
            refused += 1
        problem = invariants(sim) if i % CHECK_EVERY == 0 or i == ops - 1 else None
        if problem:
            problems.append(f"{design} {args}: after {'; '.join(log[-8:])}: {problem}")
            break
    reports = sim.reports()
    unexpected = [r for r in reports if r.kind not in OPS_ALLOWED[design]]
    if unexpected:
        problems.append(f"{design} {args} (operations from random.Random({guest_seed})): {unexpected[0]}")
    return dict(ops=ops, refused=refused, kinds=collections.Counter(r.kind for r in reports), problems=problems)


def random_operations(total: int, seed: int, threads: int) -> list:
    todo = collections.deque(guests(total, seed))
    print(f"random operations: {total:,} on {len(todo):,} guests of {', '.join(bs.DESIGNS)} (seed {seed}, {threads} threads)",
          flush=True)
    results = {d: dict(ops=0, seconds=0.0, guests=0, refused=0, kinds=collections.Counter(), problems=[]) for d in bs.DESIGNS}
    lock = threading.Lock()
    started = time.perf_counter()
    milestones = [total * k // 10 for k in range(1, 10)]   # a progress line at every tenth

    def worker():
        while not Stop.event.is_set():
            with lock:
                if not todo:
                    return
                design, guest_seed, ops = todo.popleft()
            began = time.perf_counter()
            r = run_guest(design, guest_seed, ops)
            with lock:
                mine = results[design]
                mine["seconds"] += time.perf_counter() - began
                mine["guests"] += 1
                for key in ("ops", "refused", "kinds", "problems"):
                    mine[key] += r[key]
                done = sum(x["ops"] for x in results.values())
                if milestones and done >= milestones[0]:
                    while milestones and done >= milestones[0]:
                        milestones.pop(0)
                    print(f"  ... {done:,} ops, {done / (time.perf_counter() - started):,.0f} ops/s", flush=True)

    run_threads([threading.Thread(target=worker) for _ in range(threads)])
    seconds = time.perf_counter() - started
    problems = []
    for design, r in results.items():
        kinds = ", ".join(f"{k} {n:,}" for k, n in sorted(r["kinds"].items())) or "none"
        print(f"  {design:<9} {r['ops']:>11,} ops, {r['ops'] / max(r['seconds'], 1e-9):7,.0f} ops/s per thread; "
              f"{r['guests']:,} guests, {r['refused']:,} calls refused; findings: {kinds}", flush=True)
        problems += r["problems"]
    done = sum(r["ops"] for r in results.values())
    print(f"  all       {done:>11,} ops in {seconds:.1f} s: {done / seconds:,.0f} ops/s", flush=True)
    return problems


# --------------------------------------------------------------------------- 2. explorations

def first_reports(res, index):
    """The reports of failing schedule ``index`` of ``res``, replayed."""
    return list(res.failure(index).reports)


def explore_design(design: str, schedules: int, seed: int, out: dict):
    rows, problems = [], []
    for scenario in bs.scenarios():
        for strategy in ("random", "pct"):
            if Stop.event.is_set():
                break
            started = time.perf_counter()
            res = bs.explore(scenario, design=design, strategy=strategy, schedules=schedules, seed=seed, progress=False,
                             chunk=max(1, schedules // 10))
            seconds = time.perf_counter() - started
            rows.append((scenario, strategy, res, seconds))
            if design == "legacy":
                continue
            for i in res.failing_indices:
                reports = first_reports(res, i)
                if not exploration_allowed(design, scenario, reports):
                    problems.append(f"{scenario} [{design}, {strategy}, seed {seed}] schedule {i}: {reports[0]}")
    out.update(rows=rows, problems=problems)


def explorations(schedules: int, seed: int) -> list:
    print(f"explorations: {schedules:,} schedules of every scenario per design and strategy (seed {seed})", flush=True)
    results = {design: {} for design in bs.DESIGNS}
    run_threads([threading.Thread(target=explore_design, args=(d, schedules, seed, results[d])) for d in bs.DESIGNS])
    problems = []
    for design, r in results.items():
        total, seconds, failing = 0, 0.0, collections.Counter()
        for scenario, strategy, res, took in r["rows"]:
            kinds = ", ".join(f"{k}:{n}" for k, n in res.failing_by_kind.items()) or "-"
            print(f"  {design:<9} {scenario:<25} {strategy:<7} {res.schedules:>6,} schedules {res.schedules / took:7,.0f}/s "
                  f"failing {res.failing:>5,}  {kinds}", flush=True)
            total, seconds = total + res.schedules, seconds + took
            failing.update(res.failing_by_kind)
        summary = ", ".join(f"{k} {n:,}" for k, n in sorted(failing.items())) or "none"
        print(f"  {design:<9} {total:,} schedules at {total / max(seconds, 1e-9):,.0f}/s; failing schedules by kind: {summary}",
              flush=True)
        problems += r["problems"]
    return problems


def reporting_races(schedules: int, seed: int) -> list:
    """A free page reporting pass against every other operation (part 3 of the module's docstring)."""
    print(f"free page reporting races: {schedules:,} schedules per race and strategy (seed {seed})", flush=True)
    started, total, problems = time.perf_counter(), 0, []
    for pcp in (False, True):
        sim = bs.Simulation(memory_mib=128, design="v6.1", seed=seed, cpus=3, free_page_reporting=True, per_cpu_lists=pcp,
                            reclaim=True, swap_mib=16)
        sim.workload.anon(mib=16)
        sim.workload.file(mib=8)
        sim.balloon.inflate(mib=8)
        sim.workload.free(0.5, pattern="random", seed=seed)
        others = [bs.op.deflate(pages=300), bs.op.inflate(pages=300), bs.op.compact(mode="sync"), bs.op.allocate(order=9, count=3),
                  bs.op.free(fraction=0.5, pattern="random", seed=seed), bs.op.isolate(then="migrate"), bs.op.kswapd(order=9),
                  bs.op.reclaim(order=0), bs.op.anon(pages=1000)]
        for i, op in enumerate(others):
            third = others[(i + 3) % len(others)]
            if {op.kind, third.kind} <= {"inflate", "deflate"}:   # the driver runs both on its one thread
                third = bs.op.compact(mode="async")
            race = sim.race(cpu0=[bs.op.report()], cpu1=[op], cpu2=[third])
            for strategy in ("random", "pct"):
                if Stop.event.is_set():
                    return problems
                res = race.explore(strategy=strategy, schedules=schedules, seed=seed, progress=False)
                total += res.schedules
                if res.failing:
                    problems.append(f"report || {op.kind} || {third.kind} [v6.1, per_cpu_lists={pcp}, {strategy}, seed {seed}]: "
                                    f"{res.first_failure.reports[0]}")
    seconds = time.perf_counter() - started
    print(f"  v6.1      {total:,} schedules at {total / max(seconds, 1e-9):,.0f}/s; failing: {len(problems)}", flush=True)
    return problems


def issue_exploration() -> list:
    print("issue 7's exploration: deflate-vs-migrate, legacy, dfs, depth 3, 98,450 schedules", flush=True)
    started = time.perf_counter()
    res = bs.explore("deflate-vs-migrate", "legacy", "dfs", schedules=98450, depth=3, progress=False)
    seconds = time.perf_counter() - started
    print(f"  {res.schedules:,} schedules in {seconds:.1f} s ({res.schedules / seconds:,.0f}/s), {res.failing:,} failing",
          flush=True)
    return [] if res.schedules == 98450 else [f"issue exploration ran {res.schedules} schedules"]


def run_threads(threads):
    """Start and join ``threads``; Ctrl-C asks them to stop after their current call and re-raises."""
    for t in threads:
        t.start()
    try:
        for t in threads:
            while t.is_alive():
                t.join(0.2)
    except KeyboardInterrupt:
        Stop.event.set()
        for t in threads:
            t.join()
        raise


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--ops", type=int, default=10_000_000, help="random operations in all (default 10,000,000)")
    p.add_argument("--schedules", type=int, default=3000, help="schedules per scenario, design and strategy")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=os.cpu_count(), help="threads for the random operations (default: one per core)")
    p.add_argument("--issue-exploration", action="store_true", help="also run the exploration that used to hang")
    args = p.parse_args(argv)
    started = time.perf_counter()
    problems = (random_operations(args.ops, args.seed, args.threads) + explorations(args.schedules, args.seed)
                + reporting_races(max(1, args.schedules // 3), args.seed))
    if args.issue_exploration:
        problems += issue_exploration()
    for problem in problems:
        print(f"UNEXPECTED: {problem}", flush=True)
    print(f"soak: {'FAIL' if problems else 'PASS'}: {len(problems)} unexpected findings "
          f"({time.perf_counter() - started:.0f} s)", flush=True)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
