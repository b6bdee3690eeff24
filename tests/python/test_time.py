"""Simulated time: sim.clock_ms, sim.run(ms), the hz and timeslice_ms options."""
import pytest


def test_run_advances_the_clock_and_history_records_it(bs):
    sim = bs.Simulation(memory_mib=32, hz=250)
    assert sim.clock_ms == 0.0
    sim.workload.anon(mib=4)
    worked = sim.clock_ms
    assert worked > 0, "kernel work takes simulated CPU time"
    assert sim.run(ms=1000) == pytest.approx(worked + 1000)
    df = sim.history()
    assert list(df["op"])[-1] == "run" and df["time_ms"].iloc[-1] == pytest.approx(sim.clock_ms)
    assert df["time_ms"].is_monotonic_increasing


@pytest.mark.parametrize("kwargs, name", [({"hz": 333}, "hz"), ({"timeslice_ms": -1}, "timeslice_ms"),
                                          ({"timeslice_ms": 5000}, "timeslice_ms")])
def test_bad_time_options_name_the_option(bs, kwargs, name):
    with pytest.raises(ValueError, match=name):
        bs.Simulation(memory_mib=16, **kwargs)


@pytest.mark.parametrize("ms", [-1, float("nan"), 1e12])
def test_bad_run_is_a_valueerror_and_changes_nothing(bs, ms):
    sim = bs.Simulation(memory_mib=16)
    sim.run(ms=5)
    before = (sim.clock_ms, len(sim.history()))
    with pytest.raises(ValueError, match="ms"):
        sim.run(ms=ms)
    assert (sim.clock_ms, len(sim.history())) == before
