"""matplotlib helpers: free blocks per order, and the physical page map as a picture.

    from balloonscript import plots
    plots.plot_buddyinfo({"before": fb0, "after": sim})
    plots.plot_page_map(sim)
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

from .simulation import MAX_ORDER, PageKind   # noqa: E402

PAGEBLOCK_PAGES = 512   # pageblock_order 9

# Fixed colours for the kinds every design has; any other kind gets the next unused tab20 colour.
_KNOWN_COLORS = {
    "free": "#f2f2f2", "anon": "#4c72b0", "file": "#55a868", "slab": "#c44e52", "balloon": "#dd8452",
    "reserved": "#333333", "isolated": "#8172b3", "kernel": "#937860",
}


def page_kind_colors() -> list:
    """One colour per PageKind value."""
    spare = list(matplotlib.colormaps["tab20"].colors)
    return [_KNOWN_COLORS.get(k.name) or spare[k.value % len(spare)] for k in PageKind]


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


def plot_page_map(src, ax=None, *, width: int = PAGEBLOCK_PAGES, legend: bool = True, title: str | None = None):
    """The physical page map as a picture: one row per pageblock (512 pages), pfn 0 top left,
    one colour per PageKind. src: a Simulation or a page_map() array. Returns the Axes."""
    pm = src.page_map() if hasattr(src, "page_map") else np.asarray(src)
    img = page_map_image(pm, width)
    if ax is None:
        _, ax = plt.subplots(figsize=(8, max(3.0, min(8.0, 8.0 * img.shape[0] / img.shape[1]))))
    colors = page_kind_colors()
    cmap = ListedColormap(colors)
    cmap.set_bad("white")
    norm = BoundaryNorm(np.arange(len(colors) + 1) - 0.5, len(colors))
    ax.imshow(np.ma.masked_less(img, 0), cmap=cmap, norm=norm, interpolation="nearest", aspect="auto")
    ax.set_xlabel(f"page within {'pageblock' if width == PAGEBLOCK_PAGES else 'row'} (pfn % {width})")
    ax.set_ylabel("pageblock" if width == PAGEBLOCK_PAGES else f"row (pfn // {width})")
    ax.set_title(title or f"physical page map ({pm.size} pages)")
    if legend:
        present = set(np.unique(pm).tolist())
        handles = [Patch(facecolor=colors[k.value], edgecolor="#999999", label=k.name)
                   for k in PageKind if k.value in present]
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return ax


def savefig(ax, path) -> str:
    """Save the figure of ``ax`` as PNG (creating the folder), without a timestamp, and close it."""
    path = os.fspath(path)
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    fig = ax.figure
    fig.tight_layout()
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)
    return path
