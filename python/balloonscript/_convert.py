"""Crossing the .NET boundary: argument checks before a value reaches the engine, bulk copies of .NET arrays
into numpy, .NET ArgumentException turned into ValueError, and long engine calls that Ctrl-C can stop. Private to
the package."""
from __future__ import annotations

import contextlib
import math
import numbers
import queue
import re
import threading

import numpy as np

from . import _clr

bindings, System = _clr.import_bindings()

INT32 = (-2**31, 2**31 - 1)
INT64 = (-2**63, 2**63 - 1)

# What .NET appends to an ArgumentException's message: " (Parameter 'x')" and, for an out-of-range
# argument, "\nActual value was v." The engine's own message already names the argument and the range.
_NET_TAIL = re.compile(r"\s*\(Parameter '[^']*'\)|\s*Actual value was .*$", re.MULTILINE | re.DOTALL)


# A transparent huge page on x86-64 Linux.
HUGE_PAGE = 2 << 20


def np_copy(net_array, dtype) -> np.ndarray:
    """Copy a .NET array into a fresh numpy array of ``dtype``, through the buffer protocol (one bulk copy,
    no per-element calls across the .NET boundary); returns the numpy array.

    A copy of two huge pages or more (a page map of 16 GiB and up) lands on huge-page boundaries: numpy asks for
    transparent huge pages on allocations of 4 MiB and up, but only whole aligned 2 MiB ranges can get one: a fresh
    4 MiB copy took 514 page faults unaligned (its unaligned half one per 4 KiB page, most of a first page_map()'s
    time), 3-4 aligned."""
    src = np.asarray(memoryview(net_array))
    if src.nbytes < 2 * HUGE_PAGE or src.dtype != np.dtype(dtype):
        return src.astype(dtype, copy=True)   # a conversion makes its own array: an aligned copy first would be a second
    raw = np.empty(src.nbytes + HUGE_PAGE, np.uint8)
    start = -raw.ctypes.data % HUGE_PAGE
    out = raw[start:start + src.nbytes].view(src.dtype).reshape(src.shape)
    np.copyto(out, src)
    return out


# The first buffer-protocol export of a .NET array costs milliseconds (pythonnet sets its path up); pay it at import,
# not in the first page_map().
np_copy(System.Array[System.Byte]([0]), np.uint8)


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


# --------------------------------------------------------------------------- Ctrl-C during a long engine call

_POLL_S = 0.05   # how often the waiting main thread looks for Ctrl-C


def interruptible(fn, interrupt, resume=lambda: None, poll=None):
    """Make the engine call ``fn()`` so that Ctrl-C stops it; returns what it returns.

    Python delivers Ctrl-C (KeyboardInterrupt) to the main thread only, and not while that thread is inside a .NET
    call. So on the main thread the call runs on a helper thread (one, reused) while the main thread waits; on
    Ctrl-C the main thread calls ``interrupt()``, which asks the engine to stop (it returns within about 0.2 s,
    its state consistent), waits for the call to return, calls ``resume()`` and raises KeyboardInterrupt. Other
    threads make the call themselves: no Ctrl-C reaches them. While it waits the main thread calls ``poll()`` (if given)
    every few hundredths of a second, to show progress."""
    if threading.current_thread() is not threading.main_thread():
        return fn()
    call = _Call(fn)
    _helper().put(call)
    try:
        call.wait(poll=poll)
    except KeyboardInterrupt:
        interrupt()
        call.wait(shielded=True)   # a second Ctrl-C must not leave the engine running behind our back
        resume()
        raise
    return call.result()


class _Call:
    """One engine call handed to the helper thread, and its outcome."""
    __slots__ = ("_fn", "_done", "_value", "_error")

    def __init__(self, fn):
        self._fn, self._done, self._value, self._error = fn, threading.Event(), None, None

    def run(self):
        try:
            self._value = self._fn()
        except BaseException as e:   # handed to the caller, who raises it
            self._error = e
        finally:
            self._done.set()

    def wait(self, shielded=False, poll=None):
        while True:
            try:
                if self._done.wait(_POLL_S):
                    return
                if poll is not None:
                    poll()
            except KeyboardInterrupt:
                if not shielded:
                    raise

    def result(self):
        if self._error is not None:
            raise self._error
        return self._value


_calls = None


def _helper() -> queue.SimpleQueue:
    """The queue of the helper thread that makes the main thread's long engine calls (started on first use, by
    the main thread only)."""
    global _calls
    if _calls is None:
        _calls = queue.SimpleQueue()
        threading.Thread(target=_serve, args=(_calls,), name="balloonscript engine calls", daemon=True).start()
    return _calls


def _serve(calls: queue.SimpleQueue):
    while True:
        calls.get().run()
