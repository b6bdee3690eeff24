"""sim.snapshot() / sim.restore() / sim.fork(): the whole guest copied and put back bit for bit."""
import numpy as np
import pytest


def churn(sim, seed):
    sim.workload.anon(mib=8)
    sim.workload.free(fraction=0.5, pattern="random", seed=seed)
    sim.balloon.inflate(mib=4)
    sim.compact()
    sim.allocate(order=9, count=2)


def state(sim):
    return (sim.page_map().tobytes(), sim.vmstat(), sim.buddyinfo(), sim.history().to_dict("list"),
            [str(r) for r in sim.reports()], sim.balloon.pages, sim.host.ballooned_pages, sim.clock_ms)


def test_restore_puts_the_guest_back_bit_for_bit(bs):
    sim = bs.Simulation(memory_mib=32, design="legacy", seed=1)
    churn(sim, 1)
    snap = sim.snapshot()
    before = state(sim)
    churn(sim, 2)
    assert state(sim) != before
    sim.restore(snap)
    assert state(sim) == before
    assert snap.ops == len(sim.history()) and snap.clock_ms == sim.clock_ms


def test_fork_is_an_independent_copy(bs):
    parent = bs.Simulation(memory_mib=32, design="redesign", seed=1, per_cpu_lists=True)
    churn(parent, 1)
    child = parent.fork()
    assert child.options == parent.options and state(child) == state(parent)
    before = state(parent)
    churn(child, 2)
    assert state(parent) == before
    assert not np.array_equal(child.page_map(), parent.page_map())


@pytest.mark.parametrize("bad", [None, "snapshot", 3])
def test_restore_rejects_what_is_not_a_snapshot(bs, bad):
    sim = bs.Simulation(memory_mib=16)
    with pytest.raises(ValueError, match="snapshot"):
        sim.restore(bad)


def test_restore_rejects_a_snapshot_of_other_options_and_changes_nothing(bs):
    a = bs.Simulation(memory_mib=16, design="legacy")
    b = bs.Simulation(memory_mib=32, design="fixed")
    b.workload.anon(mib=4)
    before = state(b)
    with pytest.raises(ValueError, match="memory_mib 32 vs 16"):
        b.restore(a.snapshot())
    assert state(b) == before
