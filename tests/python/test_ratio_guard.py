"""Issue 13's regression guard across the Python boundary (the engine's is tests/Engine.Tests/Perf/RatioGuardTests.cs).

No time is asserted, only the ratio of two measurements taken in the same process, interleaved, the median of several
rounds each, so a slow or loaded machine slows both sides alike. The bound is several times the ratio measured when it
was set (BENCHMARKS.md, "Regression guard") and far below what the regression it guards against would give.
"""
import statistics
import time

import numpy as np

ROUNDS = 15
# page_map() and page_flags() of a 4 GiB guest against numpy copying as many bytes: 1.1-1.9 when set (5 December);
# a call across the boundary per page would be thousands.
COPY_BOUND = 10


def _interleaved_medians(a, b, rounds=ROUNDS):
    """Median seconds of a() and of b(), taking turns, after a warm-up of both."""
    a(), b()
    times_a, times_b = [], []
    for _ in range(rounds):
        for fn, times in ((a, times_a), (b, times_b)):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
    return statistics.median(times_a), statistics.median(times_b)


def test_page_map_and_flags_cost_about_a_copy_of_their_bytes(bs):
    sim = bs.Simulation(memory_mib=4096, seed=1)
    sim.workload.anon(mib=64)
    for column in (sim.page_map, sim.page_flags):
        same_bytes = np.ones_like(column())
        through_bindings, numpy_copy = _interleaved_medians(column, same_bytes.copy)
        ratio = through_bindings / numpy_copy
        print(f"{column.__name__}: {through_bindings * 1e6:.0f} us, numpy's copy {numpy_copy * 1e6:.0f} us, ratio {ratio:.2f}")
        assert ratio < COPY_BOUND, f"{column.__name__}() took {ratio:.1f} times a numpy copy of its {same_bytes.nbytes} bytes"
