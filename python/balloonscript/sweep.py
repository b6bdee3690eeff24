"""Batch experiments: run a function over a grid of parameters and collect one DataFrame.

    from balloonscript import experiments as ex, sweep
    df = sweep.sweep(ex.lru_lock_blocks, {"design": bs.DESIGNS, "seed": range(10)}, workers=2, memory_mib=128)

Each run is independent and deterministic, so the result does not depend on ``workers`` or on the order runs
finish in: rows come in grid order (the product of the grid's values, first key slowest). ``workers > 1``
uses a process pool started with *spawn* (each worker loads its own .NET runtime; fork would hang it), and
``client=`` sends the runs to a dask.distributed cluster instead. The function must be importable by name
(defined at module level) for either.
"""
from __future__ import annotations

import itertools
import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import pandas as pd

from ._progress import progress as _progress_bar


def grid_points(grid) -> list[dict]:
    """The parameter sets of ``grid``: a dict of name -> values (all combinations) or a list of dicts."""
    if isinstance(grid, dict):
        if not grid:
            raise ValueError("grid must name at least one parameter")
        names = list(grid)
        values = [list(v) if not isinstance(v, (str, bytes)) else [v] for v in grid.values()]
        for name, vs in zip(names, values):
            if not vs:
                raise ValueError(f"grid[{name!r}] must hold at least one value")
        return [dict(zip(names, combo)) for combo in itertools.product(*values)]
    points = [dict(p) for p in grid]
    if not points:
        raise ValueError("grid must hold at least one parameter set")
    return points


def run_point(fn, params: dict, fixed: dict) -> pd.DataFrame:
    """One run: ``fn(**params, **fixed)`` as a frame (a dict is one row), with the parameters as first columns."""
    out = fn(**params, **fixed)
    df = pd.DataFrame([out]) if isinstance(out, dict) else pd.DataFrame(out).reset_index(drop=True)
    for i, (name, value) in enumerate(params.items()):
        if name in df.columns:
            df = df.drop(columns=name)
        df.insert(i, name, value)
    return df


def sweep(fn, grid, *, workers: int = 1, client=None, progress: bool = True, **fixed) -> pd.DataFrame:
    """Run ``fn`` once per parameter set of ``grid`` (extra keyword arguments go to every run); returns one
    DataFrame, the runs' rows concatenated in grid order, parameters first."""
    if not callable(fn):
        raise ValueError(f"fn must be callable, got {fn!r}")
    if not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be an integer >= 1, got {workers!r}")
    points = grid_points(grid)
    bar = _progress_bar(total=len(points), desc=getattr(fn, "__name__", "sweep"), unit="run", leave=False) if progress else None
    try:
        if client is not None:
            futures = client.map(run_point, [fn] * len(points), points, [fixed] * len(points), pure=False)
            frames = []
            for f in futures:
                frames.append(f.result())
                if bar is not None:
                    bar.update(1)
        elif workers == 1:
            frames = []
            for p in points:
                frames.append(run_point(fn, p, fixed))
                if bar is not None:
                    bar.update(1)
        else:
            ctx = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
                futures = [pool.submit(run_point, fn, p, fixed) for p in points]
                frames = []
                for f in futures:
                    frames.append(f.result())
                    if bar is not None:
                        bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return pd.concat(frames, ignore_index=True)
