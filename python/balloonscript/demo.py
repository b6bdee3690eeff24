"""The canonical experiment (design.md §5): one guest and workload under each design, side by side.

    /usr/bin/python3 -m balloonscript demo [--memory-mib 1024] [--designs legacy redesign fixed] [--out out] [--json | --csv]

For each design (experiments.canonical_guest / compact_and_allocate): a guest runs anon, page cache and slab; half
of it is freed interleaved; the balloon inflates a quarter of memory into those holes; most of the workload
then exits. Memory is compacted (compact_memory) and order-9 allocations are attempted. Prints
/proc/buddyinfo along the way and a summary table; writes PNGs under --out. The command line is in
balloonscript.cli (``python -m balloonscript.demo`` is ``python -m balloonscript demo``).
"""
from __future__ import annotations

import os
import sys
from collections import Counter

import pandas as pd

from balloonscript import experiments as ex
from balloonscript import plots

ORDER = ex.ORDER

# Summary rows: label, column of the experiment's row.
SUMMARY = [
    ("balloon pages", "balloon_pages_before"),
    (f"order-{ORDER} blocks before compaction", "order9_blocks_before"),
    (f"unusable_index({ORDER}) before", "unusable_9_before"),
    ("compaction: pages migrated", "migrated"),
    ("compaction: balloon pages migrated", "balloon_migrated"),
    ("balloon pages never movable again", "balloon_unmovable_compacted"),
    ("balloon-only pageblocks left", "balloon_only_blocks_compacted"),
    (f"order-{ORDER} blocks after compaction", "order9_blocks_compacted"),
    (f"extfrag_index({ORDER}) after compaction", "extfrag_9_compacted"),
    (f"unusable_index({ORDER}) after compaction", "unusable_9_compacted"),
    (f"order-{ORDER} allocations that succeeded", "allocated"),
    ("  balloon pages migrated by them", "balloon_migrated_direct"),
]

# The comparison chart: one panel per metric.
CHART = [("balloon_migrated", "balloon pages migrated by compact_memory"),
         ("balloon_unmovable_compacted", "balloon pages never movable again"),
         ("order9_blocks_compacted", f"order-{ORDER} blocks after compaction"),
         ("allocated", f"order-{ORDER} allocations that succeeded")]


def _header(text: str) -> str:
    return f"\n=== {text} " + "=" * max(0, 72 - len(text))


def run_design(design: str, args, say=print) -> tuple[dict, dict]:
    """The experiment for one design, narrated through ``say`` (print by default); returns its row and the
    page map after compaction."""
    sim = ex.canonical_guest(design, args.memory_mib, args.seed, exiting=args.exiting)
    say(_header(f"{design}: {args.memory_mib} MiB guest, balloon inflated, {args.exiting:.0%} of the workload exited"))
    say(sim.buddyinfo(), end="")
    snapshot = {}

    def after_compaction(s):
        snapshot["page_map"] = s.page_map()
        snapshot["free_blocks"] = s.free_blocks()
        say(_header(f"{design}: after compact_memory"))
        say(s.buddyinfo(), end="")

    before = sim.free_blocks()
    row = ex.compact_and_allocate(sim, args.allocations, after_compaction)
    say(f"compact: migrated {row['migrated']} pages ({row['balloon_migrated']} balloon pages), "
        f"failed {row['failed']}; order-{ORDER} allocations: {row['allocated']} succeeded")
    kinds = Counter({k: n for k, n in sim.report_counts().items() if n})
    say("sanitizer findings:", dict(kinds) or "none")
    for report in sim.reports()[:1]:
        say(report)
    row["findings_by_kind"] = kinds
    plots.savefig(plots.plot_buddyinfo({"before": before, "compacted": snapshot["free_blocks"], "end": sim},
                                       log=True, title=f"{design}: free blocks per order"),
                  os.path.join(args.out, f"buddyinfo-{design}.png"))
    return row, snapshot["page_map"]


def print_summary(rows: dict) -> None:
    """Print the per-design summary table (rows: design -> row of run_design())."""
    print(_header("summary"))

    def fmt(v):
        return f"{v:.3f}" if isinstance(v, float) else str(v)
    print(f"{'':42}" + "".join(f"{d:>11}" for d in rows))
    for label, key in SUMMARY:
        print(f"{label:42}" + "".join(f"{fmt(r[key]):>11}" for r in rows.values()))
    kinds = _finding_kinds(rows)
    for kind in kinds or ["(none)"]:
        print(f"{'findings: ' + kind:42}" + "".join(f"{r['findings_by_kind'].get(kind, 0):>11}" for r in rows.values()))
    print(f"(extfrag_index -1.000: a free order-{ORDER} block exists; unusable_index: share of free memory in "
          f"blocks below order {ORDER})")


def comparison_figure(rows: dict):
    """Returns a matplotlib Figure: one bar chart per CHART metric, designs side by side."""
    import matplotlib.pyplot as plt
    import pandas as pd
    df = pd.DataFrame([{"design": d, **{k: r[k] for k, _ in CHART}} for d, r in rows.items()])
    fig, axes = plt.subplots(1, len(CHART), figsize=(3.3 * len(CHART), 3.7))
    for ax, (metric, title) in zip(axes, CHART):
        plots.plot_design_comparison(df, metric, ax, title=title)
        ax.set_ylabel("")
        ax.title.set_fontsize(9)
    return fig


def _finding_kinds(rows: dict) -> list[str]:
    return sorted(set().union(*(r["findings_by_kind"] for r in rows.values())))


def summary_frame(rows: dict) -> pd.DataFrame:
    """The summary table as a DataFrame: one row per design, the SUMMARY columns, then findings_<kind> for each
    kind found in any design."""
    kinds = _finding_kinds(rows)
    return pd.DataFrame([{"design": d, **{key: r[key] for _, key in SUMMARY},
                          **{f"findings_{k}": r["findings_by_kind"].get(k, 0) for k in kinds}}
                         for d, r in rows.items()])


def run(args, say=print) -> dict:
    """The demo: run_design for each of ``args.designs``, narrated through ``say``, then the pictures under
    ``args.out`` (and ``args.readme_image``); returns design -> row."""
    rows, maps = {}, {}
    for design in args.designs:
        rows[design], maps[design] = run_design(design, args, say)
    title = f"{args.memory_mib} MiB guest after compact_memory (balloon in orange)"
    figures = {"page-maps-compacted.png": lambda: plots.plot_page_maps(maps, title=title),
               "design-comparison.png": lambda: comparison_figure(rows)}
    for name, draw in figures.items():
        plots.savefig(draw(), os.path.join(args.out, name))
    if args.readme_image:
        folder = os.path.dirname(args.readme_image)
        plots.savefig(plots.plot_page_maps({d: maps[d] for d in list(maps)[:2]}, title=title), args.readme_image)
        plots.savefig(comparison_figure(rows), os.path.join(folder, "design-comparison.png"))
    return rows


def main(argv=None) -> int:
    """``python -m balloonscript demo`` with these arguments; returns the exit status."""
    from .cli import main as cli
    return cli(["demo", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
