"""Crossing the .NET boundary: argument checks before a value reaches the engine, bulk copies of .NET arrays
into numpy, and .NET ArgumentException turned into ValueError. Private to the package."""
from __future__ import annotations

import contextlib
import math
import numbers
import re

import numpy as np

from . import _clr

bindings, System = _clr.import_bindings()

INT32 = (-2**31, 2**31 - 1)
INT64 = (-2**63, 2**63 - 1)

# What .NET appends to an ArgumentException's message: " (Parameter 'x')" and, for an out-of-range
# argument, "\nActual value was v." The engine's own message already names the argument and the range.
_NET_TAIL = re.compile(r"\s*\(Parameter '[^']*'\)|\s*Actual value was .*$", re.MULTILINE | re.DOTALL)


def np_copy(net_array, dtype) -> np.ndarray:
    """Copy a .NET array into a fresh numpy array of ``dtype``, through the buffer protocol (one bulk copy,
    no per-element calls across the .NET boundary); returns the numpy array."""
    return np.array(memoryview(net_array)).astype(dtype, copy=False)


def strs(net_array) -> list[str]:
    """A .NET string array as a list of str (empty for null)."""
    return [str(s) for s in net_array] if net_array is not None else []


def snake(name: str) -> str:
    """PascalCase / camelCase -> snake_case."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def pascal(name: str) -> str:
    """snake_case -> PascalCase (the .NET property of a Python option name)."""
    return "".join(part.capitalize() for part in name.split("_"))


@contextlib.contextmanager
def net_errors():
    """System.ArgumentException -> ValueError carrying the engine's message (which names the argument)."""
    try:
        yield
    except System.ArgumentException as e:   # includes ArgumentOutOfRangeException, ArgumentNullException
        message = _NET_TAIL.sub("", str(e.Message)).strip()
        param = snake(str(e.ParamName)) if e.ParamName else None
        if param and param not in message:
            message = f"{param}: {message}"
        raise ValueError(message) from None


def member(obj, name: str):
    """A member of a bindings object; returns its value (a property getter runs .NET code)."""
    with net_errors():
        return getattr(obj, name)


def call(obj, name: str, *args):
    """Call the .NET method ``name`` of ``obj``; returns what it returns."""
    with net_errors():
        return getattr(obj, name)(*args)


def as_int(name: str, value, lo_hi=INT64) -> int:
    """``value`` as an int in ``lo_hi``; ValueError naming ``name`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    value = int(value)
    if not lo_hi[0] <= value <= lo_hi[1]:
        raise ValueError(f"{name} must be in [{lo_hi[0]}, {lo_hi[1]}], got {value}")
    return value


def as_real(name: str, value) -> float:
    """``value`` as a float (not NaN, not too large for a float); ValueError naming ``name`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a number, got {value!r}")
    try:
        value = float(value)
    except OverflowError:
        raise ValueError(f"{name} must be a number a float can hold, got {value!r:.60}") from None
    if math.isnan(value):
        raise ValueError(f"{name} must be a number, got nan")
    return value


def as_str(name: str, value) -> str:
    """``value`` as text .NET can take (a lone surrogate cannot cross: it would abort the process)."""
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string, got {value!r}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{name} must be valid text, got {value!r} (it holds a lone surrogate)") from None
    return value


def as_bool(name: str, value) -> bool:
    """``value`` as a bool (only True or False)."""
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return value
