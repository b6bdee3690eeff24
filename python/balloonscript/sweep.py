"""Batch experiments: run a function over a grid of parameters and collect one DataFrame.

    from balloonscript import experiments as ex, sweep
    df = sweep.sweep(ex.lru_lock_blocks, {"design": bs.DESIGNS, "seed": range(10)}, workers=2, memory_mib=128)

Each run is independent and deterministic, so the result does not depend on ``workers`` or on the order runs
finish in: rows come in grid order (the product of the grid's values, first key slowest).

``workers > 1`` runs on a pool of worker processes started with *spawn* (fork would hang .NET) that stays up
across sweep calls with .NET already loaded in each worker, so only the first sweep pays for starting them;
``shutdown()`` stops it (it also stops at exit), and a sweep with another ``workers`` replaces it. ``client=``
sends the runs to a dask.distributed cluster instead. A function importable by name (defined at module level
of an importable module) travels by name; any other (defined in a notebook cell, in ``__main__``, inside
another function, a lambda) travels by value with cloudpickle. Workers import modules once: after editing a
module a sweep uses, call ``shutdown()`` (or restart the kernel) so that the workers see the change.
"""
from __future__ import annotations

import atexit
import itertools
import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING

from ._progress import progress as _progress_bar

if TYPE_CHECKING:
    import pandas as pd

_pool: ProcessPoolExecutor | None = None
_pool_workers = 0


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
    import pandas as pd
    out = fn(**params, **fixed)
    df = pd.DataFrame([out]) if isinstance(out, dict) else pd.DataFrame(out).reset_index(drop=True)
    for i, (name, value) in enumerate(params.items()):
        if name in df.columns:
            df = df.drop(columns=name)
        df.insert(i, name, value)
    return df


def importable_by_name(fn) -> bool:
    """Whether ``fn`` can travel to another process by name, which imports its module: True for a function
    defined at module level of a module other than ``__main__``."""
    module, qualname = getattr(fn, "__module__", None), getattr(fn, "__qualname__", None)
    if module in (None, "__main__") or not qualname or "<" in qualname:   # <locals>, <lambda>
        return False
    obj = sys.modules.get(module)
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
    return obj is fn


class ByValue:
    """A function shipped by value (cloudpickle): calling it calls the function, in whichever process."""

    def __init__(self, fn):
        import cloudpickle
        self.blob = cloudpickle.dumps(fn)
        self.__name__ = getattr(fn, "__name__", type(fn).__name__)

    def __call__(self, *args, **kwargs):
        import cloudpickle
        return cloudpickle.loads(self.blob)(*args, **kwargs)


def portable(fn):
    """Returns ``fn`` itself when another process can import it by name, else ``ByValue(fn)``."""
    return fn if importable_by_name(fn) else ByValue(fn)


def _start_worker() -> None:
    """A worker's first act: load .NET and the engine, so that runs do not wait for it; and arrange to leave,
    when the pool shuts down, without .NET's full shutdown (about 2 s, and nothing in a worker needs it)."""
    import balloonscript  # noqa: F401
    atexit.register(_leave_now)   # registered last, so it runs first


def _leave_now() -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def worker_pool(workers: int) -> ProcessPoolExecutor:
    """Returns the module's pool of ``workers`` spawned processes, starting it (or replacing one of another
    size) if needed."""
    global _pool, _pool_workers
    if _pool is None or _pool_workers != workers:
        shutdown()
        _pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                    initializer=_start_worker)
        _pool_workers = workers
    return _pool


def shutdown() -> None:
    """Stop the worker processes (if any); the next sweep with ``workers > 1`` starts new ones."""
    global _pool, _pool_workers
    if _pool is not None:
        _pool.shutdown(wait=True, cancel_futures=True)
    _pool, _pool_workers = None, 0


atexit.register(shutdown)


def _runs(fn, points: list[dict], fixed: dict, workers: int, client):
    """Yields the runs' frames in grid order, each computed where sweep() was asked to compute it; if one
    fails (or on Ctrl-C), cancels the runs not started yet."""
    n = len(points)
    if client is not None:
        futures = client.map(run_point, [portable(fn)] * n, points, [fixed] * n, pure=False)
    elif workers == 1:
        yield from (run_point(fn, p, fixed) for p in points)
        return
    else:
        shipped = portable(fn)
        futures = [worker_pool(workers).submit(run_point, shipped, p, fixed) for p in points]
    try:
        for f in futures:
            yield f.result()
    finally:
        for f in futures:
            f.cancel()


def sweep(fn, grid, *, workers: int = 1, client=None, progress: bool = True, **fixed) -> pd.DataFrame:
    """Run ``fn`` once per parameter set of ``grid`` (extra keyword arguments go to every run): serially,
    on ``workers`` processes, or on the dask.distributed ``client``'s cluster. Returns one DataFrame, the runs'
    rows concatenated in grid order, parameters first; the same whichever way it ran."""
    if not callable(fn):
        raise ValueError(f"fn must be callable, got {fn!r}")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be an integer >= 1, got {workers!r}")
    points = grid_points(grid)
    frames = []
    with _progress_bar(total=len(points), desc=getattr(fn, "__name__", "sweep"), unit="run", leave=False,
                       disable=not progress) as bar:
        try:
            for frame in _runs(fn, points, fixed, workers, client):
                frames.append(frame)
                bar.update(1)
        except BrokenProcessPool:
            shutdown()   # a worker died: the next sweep starts a fresh pool
            raise
    import pandas as pd
    return pd.concat(frames, ignore_index=True)
