"""matplotlib helpers: free blocks per order, the physical page map as a picture, experiment results per
design, and an explored interleaving as a timeline.

    from balloonscript import plots
    plots.plot_buddyinfo({"before": fb0, "after": sim})
    plots.plot_page_map(sim)
    plots.plot_page_maps({"legacy": sim_a, "redesign": sim_b})
    plots.plot_design_comparison(experiments.compare(...), "order9_blocks")
    plots.plot_timeline(bs.explore("scan-vs-migrate", schedules=50).first_failure)
    sim.run(5000, sample_ms=50); plots.plot_memory(sim); plots.plot_reclaim_activity(sim)
"""
from __future__ import annotations

import os
import sys

import matplotlib

if ("matplotlib.pyplot" not in sys.modules and not os.environ.get("MPLBACKEND")
        and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY")):
    matplotlib.use("Agg")   # headless: render to files

import matplotlib.pyplot as plt   # noqa: E402
import numpy as np   # noqa: E402
from matplotlib.colors import BoundaryNorm, ListedColormap   # noqa: E402
from matplotlib.patches import Patch   # noqa: E402

from .simulation import HOST_MAP_STATES, MAX_ORDER, PAGES_PER_MIB, PageKind   # noqa: E402

PAGEBLOCK_PAGES = 512   # pageblock_order 9

# Fixed colours for the kinds every design has; any other kind gets the next unused tab20 colour.
_KNOWN_COLORS = {
    "free": "#f2f2f2", "anon": "#4c72b0", "file": "#55a868", "slab": "#c44e52", "balloon": "#dd8452",
    "isolated": "#8172b3", "kernel": "#937860", "pagetable": "#2f2f2f",
}


def page_kind_colors() -> list:
    """One colour per PageKind value, then the colour of UNMOVABLE_BALLOON."""
    spare = list(matplotlib.colormaps["tab20"].colors)
    return [_KNOWN_COLORS.get(k.name) or spare[k.value % len(spare)] for k in PageKind] + ["#7f1010"]


# Page maps draw balloon pages that can never move again (legacy's defect 2) as a kind of their own.
UNMOVABLE_BALLOON = len(PageKind)

# What each page map colour means (the legend's labels).
_KIND_LABELS = {
    "free": "free", "anon": "anon (process memory)", "file": "file (page cache)",
    "slab": "slab (unmovable kernel memory)", "balloon": "balloon", "kernel": "kernel (THP, high-order allocations)",
    "isolated": "isolated (held by compaction's free scanner)", "pagetable": "pagetable (page tables)",
}
_UNMOVABLE_LABEL = "balloon, never movable again (defect 2)"


def _axes(ax):
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    return ax


def _free_blocks(src) -> np.ndarray:
    if hasattr(src, "free_blocks"):
        return np.asarray(src.free_blocks(), dtype=np.int64)
    blocks = np.asarray(src, dtype=np.int64)
    if blocks.ndim != 1:
        raise ValueError(f"free_blocks must be one-dimensional, got shape {blocks.shape}")
    return blocks


def plot_buddyinfo(src, ax=None, *, log: bool = False, title: str | None = None):
    """Bar chart of free blocks per order (what /proc/buddyinfo shows).

    src: a Simulation, an array of free blocks per order, or a dict label -> either of those
    (grouped bars, e.g. {"before": fb_before, "after": sim}). Returns the Axes.
    """
    ax = _axes(ax)
    series = src if isinstance(src, dict) else {None: src}
    n = len(series)
    width = 0.8 / n
    orders = np.arange(MAX_ORDER)
    for i, (label, s) in enumerate(series.items()):
        blocks = np.zeros(MAX_ORDER, dtype=np.int64)
        fb = _free_blocks(s)[:MAX_ORDER]
        blocks[:len(fb)] = fb
        ax.bar(orders + (i - (n - 1) / 2) * width, blocks, width=width, label=label)
    ax.set_xticks(orders)
    ax.set_xlabel("order (block = 2^order pages)")
    ax.set_ylabel("free blocks")
    if log:
        ax.set_yscale("symlog")
    if n > 1:
        ax.legend()
    ax.set_title(title or "free blocks per order")
    return ax


def page_map_image(page_map, width: int = PAGEBLOCK_PAGES) -> np.ndarray:
    """Reshape a page map into rows of ``width`` pages (one pageblock per row by default); a short last
    row is padded with -1 (drawn blank)."""
    pm = np.asarray(page_map)
    rows = -(-pm.size // width)
    img = np.full(rows * width, -1, dtype=np.int16)
    img[:pm.size] = pm
    return img.reshape(rows, width)


def _kind_patches(*page_maps) -> list:
    """Legend entries for the kinds present in any of the page maps, each saying what it is."""
    colors = page_kind_colors()
    present = set().union(*(np.unique(pm).tolist() for pm in page_maps))
    patches = [Patch(facecolor=colors[k.value], edgecolor="#999999", label=_KIND_LABELS.get(k.name, k.name))
               for k in PageKind if k.value in present]
    if UNMOVABLE_BALLOON in present:
        patches.append(Patch(facecolor=colors[UNMOVABLE_BALLOON], edgecolor="#999999", label=_UNMOVABLE_LABEL))
    return patches


def _drawable(src):
    """(page map to draw, zones): a Simulation's page map with its never-movable balloon pages marked, and its
    zones; or an array as given, with no zones."""
    if not hasattr(src, "page_map"):
        return np.asarray(src), []
    pm = src.page_map().astype(np.int16)
    pm[src.balloon_unmovable()] = UNMOVABLE_BALLOON
    return pm, src.zones()


def _draw_categories(ax, img, colors) -> None:
    """Draw ``img`` (rows of category indexes, -1 for padding: page_map_image) with one colour per index, padding blank."""
    cmap = ListedColormap(colors)
    cmap.set_bad("white")
    norm = BoundaryNorm(np.arange(len(colors) + 1) - 0.5, len(colors))
    ax.imshow(np.ma.masked_less(img, 0), cmap=cmap, norm=norm, interpolation="nearest", aspect="auto")


def plot_page_map(src, ax=None, *, width: int = PAGEBLOCK_PAGES, legend: bool = True, title: str | None = None):
    """The physical page map as a picture: one row per pageblock (512 pages), pfn 0 top left, one colour per
    PageKind, balloon pages that can never move again in dark red, and (for a Simulation) a line where each zone
    begins. src: a Simulation or a page_map() array. Returns the Axes."""
    pm, zones = _drawable(src)
    img = page_map_image(pm, width)
    if ax is None:
        _, ax = plt.subplots(figsize=(8, max(3.0, min(8.0, 8.0 * img.shape[0] / img.shape[1]))))
    _draw_categories(ax, img, page_kind_colors())
    for name, start, _ in zones:
        row = start / width - 0.5
        if start:
            ax.axhline(row, color="black", linewidth=0.8)
        ax.annotate(name, (0.0, row), xycoords=("axes fraction", "data"), xytext=(3, -2), textcoords="offset points",
                    va="top", fontsize=8, bbox={"boxstyle": "square,pad=0.1", "facecolor": "white", "alpha": 0.7,
                                                "linewidth": 0})
    ax.set_xlabel(f"page within {'pageblock' if width == PAGEBLOCK_PAGES else 'row'} (pfn % {width})")
    ax.set_ylabel("pageblock" if width == PAGEBLOCK_PAGES else f"row (pfn // {width})")
    ax.set_title(title or f"physical page map ({pm.size} pages)")
    if legend:
        ax.legend(handles=_kind_patches(pm), loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return ax


# Colours of the host map's states (HOST_MAP_STATES): never written, a 4 KiB page, a huge page, discarded.
HOST_MAP_COLORS = ["#f2f2f2", "#6baed6", "#08306b", "#dd8452"]


def plot_host_map(src, ax=None, *, legend: bool = True, title: str | None = None):
    """The guest's memory as the host backs it (``sim.host.map()``): one row per 2 MiB region (a host huge page's
    reach), pfn 0 top left; frames never written, backed by 4 KiB pages, backed by a huge page (``host_thp=True``), and
    discarded (given back by the balloon or free page reporting). src: a Simulation or a host map array. Returns the Axes."""
    hm = src.host.map() if hasattr(src, "host") else np.asarray(src, dtype=np.uint8)
    img = page_map_image(hm, PAGEBLOCK_PAGES)
    if ax is None:
        _, ax = plt.subplots(figsize=(8, max(3.0, min(8.0, 8.0 * img.shape[0] / img.shape[1]))))
    _draw_categories(ax, img, HOST_MAP_COLORS)
    ax.set_xlabel(f"frame within its 2 MiB region (pfn % {PAGEBLOCK_PAGES})")
    ax.set_ylabel("2 MiB region")
    counts = np.bincount(hm, minlength=len(HOST_MAP_STATES))
    ax.set_title(title or f"guest memory as the host backs it ({(counts[1] + counts[2]) / PAGES_PER_MIB:.0f} MiB resident)")
    if legend:
        ax.legend(handles=[Patch(color=c, label=f"{s} ({n / PAGES_PER_MIB:.0f} MiB)")
                           for c, s, n in zip(HOST_MAP_COLORS, HOST_MAP_STATES, counts)],
                  loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return ax


def plot_page_maps(maps: dict, *, title: str | None = None, width: int = PAGEBLOCK_PAGES):
    """Page maps side by side, one per entry of ``maps`` (label -> Simulation or page_map() array), with one
    legend for all. Returns the Figure."""
    if not maps:
        raise ValueError("maps must hold at least one page map")
    drawn = {label: _drawable(src) for label, src in maps.items()}
    rows = max(-(-pm.size // width) for pm, _ in drawn.values())
    height = max(3.0, min(7.0, 7.0 * rows / width))
    fig, axes = plt.subplots(1, len(drawn), figsize=(3.2 * len(drawn) + 2.6, height), sharey=True, squeeze=False,
                             layout="constrained")
    for ax, (label, src) in zip(axes[0], maps.items()):
        plot_page_map(src, ax, width=width, legend=False, title=str(label))
        if ax is not axes[0][0]:
            ax.set_ylabel("")
    axes[0][-1].legend(handles=_kind_patches(*(pm for pm, _ in drawn.values())), loc="upper left",
                       bbox_to_anchor=(1.02, 1.0), frameon=False)
    if title:
        fig.suptitle(title)
    return fig


def _number(v) -> str:
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:.3g}"


def plot_design_comparison(df, metric: str, ax=None, *, x: str | None = None, title: str | None = None):
    """One experiment metric per design, from a frame with a ``design`` column (experiments.compare).

    With an ``x`` column (default ``pass`` when the frame has several passes) a line per design over x;
    otherwise a bar per design. Several seeds are averaged; the error bars are their standard deviation.
    Returns the Axes.
    """
    for col in ("design", metric):
        if col not in df.columns:
            raise ValueError(f"metric: the frame has no column {col!r} (it has {', '.join(map(str, df.columns))})")
    if x is None and "pass" in df.columns and df["pass"].nunique() > 1:
        x = "pass"
    if x is not None and x not in df.columns:
        raise ValueError(f"x: the frame has no column {x!r}")
    ax = _axes(ax)
    designs = list(dict.fromkeys(df["design"]))
    if x is None:
        stats = df.groupby("design", sort=False)[metric].agg(["mean", "std"]).reindex(designs)
        bars = ax.bar(designs, stats["mean"], yerr=stats["std"].fillna(0) if len(df) > len(designs) else None,
                      color=[f"C{i}" for i in range(len(designs))], capsize=4)
        crowded = len(designs) > 3   # five names and numbers do not fit side by side in a small panel
        ax.bar_label(bars, labels=[_number(v) for v in stats["mean"]], fontsize=7.5 if crowded else None)
        ax.set_ylim(top=ax.get_ylim()[1] * 1.1)   # room for the labels
        if crowded:
            ax.tick_params(axis="x", labelrotation=30)
    else:
        for i, design in enumerate(designs):
            stats = df[df["design"] == design].groupby(x)[metric].agg(["mean", "std"])
            ax.errorbar(stats.index, stats["mean"], yerr=stats["std"].fillna(0), marker="os^dv"[i % 5],
                        capsize=3, label=design, alpha=0.85)
        ax.set_xlabel(x)
        ax.legend()
    ax.set_ylabel(metric)
    ax.set_title(title or f"{metric} per design")
    return ax


# Preemption points worth naming on a timeline: the reads and writes the defects race on.
TIMELINE_LABELS = ("balloon_page_movable", "move_to_new_page", "balloon_page_dequeue", "tell_host")


def plot_timeline(run, ax=None, *, labels=TIMELINE_LABELS, title: str | None = None):
    """An explored interleaving (a ScheduleRun) as a timeline: one lane per CPU, a bar while that CPU runs,
    a tick at each preemption point it passes (a cross where it blocked), a coloured dot, named in the
    legend, at each point whose name contains one of ``labels``, and each sanitizer report marked at the
    step it fired (a report fires after the point of its step). Returns the Axes."""
    trace = run.trace.sort_values("step")
    cpus = sorted(set(trace["cpu"].tolist()) | {r.cpu for r in run.reports})
    lane = {cpu: i for i, cpu in enumerate(cpus)}
    if ax is None:
        _, ax = plt.subplots(figsize=(13, 1.4 + 1.1 * len(cpus)))
    steps, trace_cpus = trace["step"].to_numpy(), trace["cpu"].to_numpy()
    # A CPU runs from the previous point (any CPU's) to its own point.
    starts = np.concatenate((steps[:1] - 1, steps[:-1]))
    for cpu in cpus:
        mine = trace_cpus == cpu
        ax.broken_barh(list(zip(starts[mine], steps[mine] - starts[mine])), (lane[cpu] - 0.18, 0.36),
                       facecolors=f"C{lane[cpu]}", alpha=0.35)
    blocked = trace["point"].str.startswith("blocked: ").to_numpy()
    y = np.array([lane[c] for c in trace_cpus], dtype=float)
    ax.plot(steps[~blocked], y[~blocked], "|", color="#333333", ms=14)
    ax.plot(steps[blocked], y[blocked], "x", color="#777777", ms=7)
    named = trace["point"].apply(lambda p: any(k in p for k in labels))
    for i, (point, rows) in enumerate(trace[named].groupby("point", sort=False)):
        ax.plot(rows["step"], [lane[c] for c in rows["cpu"]], "o", color=matplotlib.colormaps["tab10"](i % 10),
                mec="black", ms=8, label=point, zorder=4)
    for r in run.reports:
        ax.axvline(r.step, color="red", linestyle="--", linewidth=1)
        # under the lane of the CPU it fired on, pointing at the point it fired after
        ax.plot(r.step, lane.get(r.cpu, 0) - 0.3, "^", color="red", ms=11, zorder=5)
        ax.annotate(r.kind, (r.step, lane.get(r.cpu, 0) - 0.3), xytext=(8, -4), textcoords="offset points",
                    color="red", fontsize=9, fontweight="bold")
    tasks = trace.groupby("cpu")["task"].agg(lambda t: ", ".join(dict.fromkeys(t)))
    ax.set_yticks(range(len(cpus)), [f"CPU{c}\n{tasks.get(c, '')}" for c in cpus])
    ax.set_ylim(-0.55, len(cpus) - 0.45)
    ax.set_xlabel("step")
    if named.any():
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=8)
    kinds = ", ".join(dict.fromkeys(r.kind for r in run.reports)) or "no report"
    ax.set_title(title or f"schedule {run.index}: {kinds}")
    return ax


def _history(src):
    """A history frame from a Simulation or a frame, one row per simulated time (the last op at that time)."""
    df = src.history() if hasattr(src, "history") else src
    for col in ("time_ms", "managed_pages", "nr_free_pages"):
        if col not in df.columns:
            raise ValueError(f"src: a history frame must have a {col!r} column (sim.history() has it)")
    return df.groupby("time_ms", sort=True).last().reset_index()


def _counter(df, names) -> np.ndarray:
    """The sum of the named counters, each a column or a per-zone family (pgscan_kswapd -> pgscan_kswapd_dma32 ...)."""
    cols = [c for c in df.columns for n in names if c == n or (c.startswith(n + "_") and c[len(n) + 1:].isalnum())]
    return df[cols].to_numpy(dtype=float).sum(axis=1)


def plot_memory(src, ax=None, *, title: str | None = None):
    """Memory over simulated time as stacked areas (free, anon, file, slab, balloon, the rest), in MiB, with the
    zones' summed watermarks (the lines near the free area), the host's target (the dashed line the balloon's
    lower edge moves towards) and the guest memory the host backs (``sim.host.resident_pages``: written by the guest,
    not given back by the balloon or free page reporting; freed memory stays in it). ``src`` is a Simulation or its
    history(); sample with ``sim.run(ms, sample_ms=...)``.
    Returns the Axes. Anon and file are the kernel's nr_anon_pages and nr_file_pages (which counts the swap cache)."""
    df = _history(src)
    ax = _axes(ax)
    t = df["time_ms"] / 1000
    mib = 1 / PAGES_PER_MIB
    layers = {
        "free": df["nr_free_pages"],
        "anon": df["nr_anon_pages"],
        "file": df["nr_file_pages"],
        "slab": df["nr_slab_reclaimable"] + df["nr_slab_unreclaimable"],
    }
    # fill_balloon takes each page out of managed_pages (adjust_managed_page_count), so the guest's memory is
    # managed + balloon; "other" is what the counters do not name (kernel allocations, pages in pagevecs, ...).
    total = df["managed_pages"] + df["balloon_pages"]
    layers["other"] = (df["managed_pages"] - sum(layers.values())).clip(lower=0)
    layers["balloon"] = df["balloon_pages"]
    colors = {**_KNOWN_COLORS, "free": "#d9d9d9", "other": _KNOWN_COLORS["kernel"]}
    ax.stackplot(t, *[v * mib for v in layers.values()], labels=list(layers), step="post",
                 colors=[colors[k] for k in layers], alpha=0.9)
    for name, style in (("wmark_min", ":"), ("wmark_low", "-."), ("wmark_high", "--")):
        ax.step(t, df[name] * mib, where="post", color="black", linestyle=style, linewidth=1, label=name)
    ax.step(t, (total - df["balloon_target"]) * mib, where="post", color="#b22222", linestyle="--",
            linewidth=1.5, label="target (memory − balloon target)")
    ax.step(t, df["host_resident"] * mib, where="post", color="#1f3a93", linewidth=1.5,
            label="host resident (frames the host backs)")
    ax.set_xlabel("simulated time (s)")
    ax.set_ylabel("MiB")
    ax.set_xlim(t.iloc[0], t.iloc[-1] if len(t) > 1 else t.iloc[0] + 1)
    ax.set_ylim(0, total.max() * mib * 1.02)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=8)
    ax.set_title(title or "memory over time")
    return ax


def plot_migration(src, ax=None, *, label: str | None = None, title: str | None = None):
    """The last live migration in ``src``'s history (``sim.host.migrate``): the MiB still to send after every step,
    over the simulated seconds since it started (a step line; each bitmap sync adds back what the guest wrote since
    the last one). ``src`` is a Simulation or its history(); sample with ``sim.run(ms, sample_ms=...)`` or
    ``sim.run`` between workload calls, after ``migrate(wait=False)``. Call it again with the same ``ax`` (and a
    ``label``) to compare guests. Returns the Axes; ValueError if the history holds no migration."""
    df = src.history() if hasattr(src, "history") else src
    if "migration_remaining" not in df.columns or "op" not in df.columns:
        raise ValueError("src: a history frame must have the 'op' and 'migration_remaining' columns (sim.history() has them)")
    starts = df.index[df["op"] == "host.migrate"]
    if len(starts) == 0:
        raise ValueError("src: its history holds no migration (sim.host.migrate)")
    h = df.loc[starts[-1]:]
    t = (h["time_ms"] - h["time_ms"].iloc[0]) / 1000
    ax = _axes(ax)
    ax.step(t, h["migration_remaining"] / PAGES_PER_MIB, where="post", label=label)
    ax.set_xlabel("simulated time since the migration started (s)")
    ax.set_ylabel("MiB still to send")
    ax.set_ylim(bottom=0)
    if label is not None:
        ax.legend()
    ax.set_title(title or "live migration")
    return ax


# What plot_reclaim_activity draws: label -> the counters it sums (a name, or a per-zone family).
RECLAIM_SERIES = {
    "pgscan_kswapd": ("pgscan_kswapd",), "pgscan_direct": ("pgscan_direct",),
    "pgsteal": ("pgsteal_kswapd", "pgsteal_direct"), "pswpout": ("pswpout",), "pswpin": ("pswpin",),
    "compact_migrate_scanned": ("compact_migrate_scanned",), "pgmigrate_success": ("pgmigrate_success",),
    "balloon_migrate": ("balloon_migrate",),
}


def plot_reclaim_activity(src, ax=None, *, title: str | None = None):
    """Reclaim and compaction activity over simulated time: pages per second scanned and stolen by kswapd and by
    direct reclaim, swapped out and in, scanned and migrated by compaction (log scale), with a red tick at each
    balloon "Out of puff!" (along the top) and a black one at each direct-reclaim stall (allocstall, along the bottom). ``src`` is a Simulation or its
    history(). Returns the Axes."""
    df = _history(src)
    ax = _axes(ax)
    t = df["time_ms"].to_numpy() / 1000
    dt = np.diff(t)
    for i, (label, names) in enumerate(RECLAIM_SERIES.items()):
        rate = np.diff(_counter(df, names)) / dt
        if rate.any():
            ax.step(t[1:], rate, where="pre", label=label, color=f"C{i}")
    # Events as ticks on the frame: "Out of puff!" along the top, direct-reclaim stalls along the bottom.
    for col, color, label, y in (("out_of_puff", "red", "Out of puff!", 1.0), ("allocstall", "black", "allocstall", 0.0)):
        counts = _counter(df, (col,))  # allocstall: v3.16's one counter, or 6.1's allocstall_<zone>
        if counts.any():
            at = t[1:][np.diff(counts) > 0]
            if len(at):
                ax.plot(at, np.full_like(at, y), "|", color=color, ms=14, transform=ax.get_xaxis_transform(),
                        clip_on=False, label=label)
    ax.set_yscale("log")
    ax.set_xlabel("simulated time (s)")
    ax.set_ylabel("pages per second")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=8)
    ax.set_title(title or "reclaim and compaction over time")
    return ax


def savefig(ax, path) -> str:
    """Save the figure of ``ax`` (an Axes or a Figure) as PNG (creating the folder), without a timestamp,
    and close it."""
    path = os.fspath(path)
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    fig = getattr(ax, "figure", None) or ax
    if fig.get_layout_engine() is None:
        fig.tight_layout()
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)
    return path
