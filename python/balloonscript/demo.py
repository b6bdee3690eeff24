"""The canonical experiment: one guest and workload under two designs, side by side.

    /usr/bin/python3 -m balloonscript.demo [--memory-mib 1024] [--out out] [--designs legacy redesign]

For each design: populate a guest (anon, file, slab), punch holes (free 50 % interleaved), then inflate
the balloon, compact memory and attempt order-9 allocations. Prints buddyinfo and the order-9 extfrag
index before and after fragmenting, a summary table, and writes PNGs under out/.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import balloonscript as bs
from balloonscript import plots

ORDER = 9   # pageblock order: a huge page


def _header(text: str) -> None:
    print(f"\n=== {text} " + "=" * max(0, 72 - len(text)))


def run_design(design: str, args) -> dict:
    mib = args.memory_mib
    sim = bs.Simulation(memory_mib=mib, design=design, cpus=args.cpus, seed=args.seed)
    row = {"design": design}

    _header(f"{design}: populate {mib} MiB guest")
    anon = sim.workload.anon(mib=mib * 0.60)
    file = sim.workload.file(mib=mib * 0.30)
    slab = sim.workload.slab(mib=mib * 1 / 32)
    print(f"allocated pages: anon {anon}, file {file}, slab {slab}")
    print(sim.buddyinfo(), end="")
    before = sim.free_blocks()
    print(f"extfrag_index(order={ORDER}) = {sim.extfrag_index(ORDER):.3f}   "
          f"unusable_index(order={ORDER}) = {sim.unusable_index(ORDER):.3f}")

    _header(f"{design}: fragment (free 50% interleaved)")
    freed = sim.workload.free(fraction=0.5, pattern="interleave", seed=args.seed + 2)
    print(f"freed pages: {freed}")
    print(sim.buddyinfo(), end="")
    after = sim.free_blocks()
    row["extfrag_fragmented"] = sim.extfrag_index(ORDER)
    print(f"extfrag_index(order={ORDER}) = {row['extfrag_fragmented']:.3f}   "
          f"unusable_index(order={ORDER}) = {sim.unusable_index(ORDER):.3f}")

    tag = f"{design}"
    plots.savefig(plots.plot_buddyinfo({"populated": before, "fragmented": after}, log=True,
                                       title=f"{design}: free blocks per order"),
                  os.path.join(args.out, f"buddyinfo-{tag}.png"))
    plots.savefig(plots.plot_page_map(sim, title=f"{design}: page map after fragmenting"),
                  os.path.join(args.out, f"page-map-fragmented-{tag}.png"))

    _header(f"{design}: balloon, compaction, order-{ORDER} allocations")
    try:
        balloon_mib = mib / 4
        row["inflated"] = sim.balloon.inflate(mib=balloon_mib)
        print(f"balloon.inflate({balloon_mib:g} MiB) -> {row['inflated']} pages; guest sees "
              f"{sim.balloon.pages}, host ledger {sim.host.ballooned_pages}")
        r = sim.compact()
        row["compact_migrated"] = r.migrated
        print(f"compact(): migrated {r.migrated}, failed {r.failed}, isolated {r.isolated}, "
              f"scanned {r.migrate_scanned} (migrate) / {r.free_scanned} (free), zones {r.zones}")
        row["allocated"] = sim.allocate(order=ORDER, count=args.allocations)
        print(f"allocate(order={ORDER}, count={args.allocations}) -> {row['allocated']} successes")
        print(sim.buddyinfo(), end="")
        plots.savefig(plots.plot_page_map(sim, title=f"{design}: page map after balloon + compaction"),
                      os.path.join(args.out, f"page-map-compacted-{tag}.png"))
    except NotImplementedError as e:
        print(f"(not available in this engine build: {e})")

    vm = sim.vmstat()
    row["balloon_migrate"] = vm.get("balloon_migrate")
    row["order9_free"] = int(sim.free_blocks()[ORDER:].sum())
    row["extfrag_end"] = sim.extfrag_index(ORDER)
    reports = sim.reports()
    row["reports"] = len(reports)
    for rep in reports[:5]:
        print(rep)
    row["sim"] = sim
    return row


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m balloonscript.demo", description=__doc__.splitlines()[0])
    p.add_argument("--memory-mib", type=int, default=1024)
    p.add_argument("--designs", nargs="+", default=["legacy", "redesign"])
    p.add_argument("--cpus", type=int, default=1)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--allocations", type=int, default=64, help="order-9 allocation attempts")
    p.add_argument("--out", default="out", help="folder for the PNGs")
    p.add_argument("--readme-image", default=None, help="also write the first design's page map here")
    args = p.parse_args(argv)

    t0 = time.perf_counter()
    rows = [run_design(d, args) for d in args.designs]

    _header("summary")
    cols = [("balloon pages migrated", "balloon_migrate"), ("compaction migrated", "compact_migrated"),
            (f"order-{ORDER} allocations ok", "allocated"), (f"order>={ORDER} free blocks", "order9_free"),
            (f"extfrag({ORDER}) fragmented", "extfrag_fragmented"), (f"extfrag({ORDER}) at end", "extfrag_end"),
            ("sanitizer findings", "reports")]

    def fmt(v):
        return "n/a" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)
    print(f"{'':28}" + "".join(f"{r['design']:>12}" for r in rows))
    for label, key in cols:
        print(f"{label:28}" + "".join(f"{fmt(r.get(key)):>12}" for r in rows))

    if args.readme_image and rows:
        plots.savefig(plots.plot_page_map(rows[0]["sim"], title=f"{rows[0]['design']}: physical page map"),
                      args.readme_image)
    print(f"\nplots written under {os.path.abspath(args.out)}/ ({time.perf_counter() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
