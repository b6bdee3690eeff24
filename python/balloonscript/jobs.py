"""Job files for batch work: one experiment of balloonscript.experiments with its arguments, run once
(``python -m balloonscript run job.toml``) or over a grid (``python -m balloonscript sweep job.toml``).

    experiment = "canonical"        # compaction_passes, lru_lock_blocks or canonical
    [args]                          # keyword arguments of every run
    memory_mib = 512
    [grid]                          # sweep only: every combination, first key slowest
    design = ["legacy", "redesign", "fixed"]
    seed = [1, 2, 3]

The same in JSON: ``{"experiment": "canonical", "args": {"memory_mib": 512}, "grid": {"design": [...], ...}}``.
A job is checked whole before anything runs: keys, the experiment's parameter names, designs and guest sizes.
"""
from __future__ import annotations

import inspect
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import experiments
from .simulation import DESIGNS, Simulation
from .sweep import run_point, sweep

KEYS = ("experiment", "args", "grid")
FORMATS = {".json": json.loads, ".toml": tomllib.loads}


@dataclass(frozen=True)
class Job:
    """An experiment (a name in experiments.EXPERIMENTS), its fixed arguments, and for a sweep its grid."""
    experiment: str
    args: dict
    grid: dict | None = None

    @property
    def function(self):
        """Returns the experiment function."""
        return getattr(experiments, self.experiment)

    def run(self, *, workers: int = 1, progress: bool = False) -> pd.DataFrame:
        """Returns the experiment's frame, parameters first: the grid's (a sweep, on ``workers`` processes)
        or the arguments' (one run)."""
        if self.grid is None:
            return run_point(self.function, self.args, {})
        return sweep(self.function, self.grid, workers=workers, progress=progress, **self.args)


def read(path) -> dict:
    """The contents of a JSON or TOML file (by its suffix); returns a dict. ValueError if it cannot be read."""
    path = Path(path)
    parse = FORMATS.get(path.suffix.lower())
    if parse is None:
        raise ValueError(f"job file {path}: the name must end in .json or .toml")
    try:
        data = parse(path.read_text())
    except OSError as e:
        raise ValueError(f"job file {path}: {e.strerror}") from None
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as e:
        raise ValueError(f"job file {path}: not valid {path.suffix[1:].upper()}: {e}") from None
    if not isinstance(data, dict):
        raise ValueError(f"job file {path}: must hold an object with the keys {', '.join(KEYS)}")
    return data


def load(path, *, grid: bool) -> Job:
    """Read and check the job in ``path`` (a sweep when ``grid``, else one run); returns the Job. Raises
    ValueError naming what is wrong before anything runs."""
    data = read(path)
    unknown = sorted(set(data) - set(KEYS))
    if unknown:
        raise ValueError(f"job file {path}: unknown key {unknown[0]!r} (allowed: {', '.join(KEYS)})")
    name = data.get("experiment")
    if name not in experiments.EXPERIMENTS:
        raise ValueError(f"experiment must be one of {', '.join(experiments.EXPERIMENTS)}, got {name!r}")
    args = _table("args", data.get("args", {}))
    if not grid:
        if "grid" in data:
            raise ValueError(f"job file {path}: a grid is for `sweep`, `run` runs the experiment once")
        job = Job(name, args)
    elif "grid" not in data:
        raise ValueError(f"job file {path}: `sweep` needs a grid (name = [values, ...])")
    else:
        job = Job(name, args, _grid(_table("grid", data["grid"])))
    _check(job)
    return job


def _table(key: str, value) -> dict:
    if not isinstance(value, dict):
        raise ValueError(f"{key} must be a table of name = value, got {value!r}")
    return value


def _grid(grid: dict) -> dict:
    if not grid:
        raise ValueError("grid must name at least one parameter")
    for name, values in grid.items():
        if not isinstance(values, list) or not values:
            raise ValueError(f"grid[{name!r}] must be a non-empty list of values, got {values!r}")
    return grid


def _check(job: Job) -> None:
    """The parameters against the experiment's signature, designs against DESIGNS, guest sizes with the engine."""
    grid = job.grid or {}
    both = sorted(set(grid) & set(job.args))
    if both:
        raise ValueError(f"{both[0]} is in both args and grid: give it in one")
    params = inspect.signature(job.function).parameters
    given = {**job.args, **{k: v[0] for k, v in grid.items()}}
    for name in given:
        if name not in params:
            raise ValueError(f"{job.experiment} has no parameter {name!r} (it has {', '.join(params)})")
    for name, p in params.items():
        if p.default is inspect.Parameter.empty and name not in given:
            raise ValueError(f"{job.experiment} needs {name!r}: give it in args or grid")
    values = {name: grid.get(name, [job.args.get(name, p.default)]) for name, p in params.items()}
    for design in values.get("design", []):
        if design not in DESIGNS:
            raise ValueError(f"design must be one of {', '.join(DESIGNS)}, got {design!r}")
    for memory_mib in values.get("memory_mib", []):
        Simulation(memory_mib=memory_mib)   # the engine's range, checked as it boots an empty guest
