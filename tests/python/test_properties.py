"""Property tests: random workload sequences keep the metrics consistent and the runs reproducible;
a call the engine refuses (ValueError) leaves the simulation exactly as it was."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

OPS = st.lists(st.one_of(
    st.tuples(st.sampled_from(["anon", "file", "slab"]), st.floats(0, 12, allow_nan=False)),
    st.tuples(st.just("free"), st.floats(0, 1, allow_nan=False), st.sampled_from(["interleave", "random"]),
              st.integers(0, 2**31)),
), min_size=1, max_size=6)


def state(sim):
    return sim.page_map().tobytes(), sim.vmstat(), sim.buddyinfo()


def apply(sim, ops):
    refused = 0
    for op in ops:
        before = state(sim)
        try:
            if op[0] == "free":
                sim.workload.free(fraction=op[1], pattern=op[2], seed=op[3])
            else:
                getattr(sim.workload, op[0])(mib=op[1])
        except ValueError as e:   # asking for more than the guest can give
            assert "mib" in str(e)
            assert state(sim) == before
            refused += 1
    return refused


@settings(max_examples=25, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=OPS, seed=st.integers(0, 1000))
def test_random_workloads_keep_metrics_consistent_and_reproducible(bs, ops, seed):
    sim = bs.Simulation(memory_mib=32, design="legacy", seed=seed)
    refused = apply(sim, ops)
    fb, vm, pm = sim.free_blocks(), sim.vmstat(), sim.page_map()
    assert int((fb << np.arange(11)).sum()) == vm["nr_free_pages"]
    assert (pm == bs.PageKind.free).sum() >= vm["nr_free_pages"]
    for kind, counter in (("anon", "nr_anon_pages"), ("file", "nr_file_pages"), ("slab", "nr_slab_unreclaimable")):
        assert int((pm == bs.PageKind[kind]).sum()) == vm[counter], kind
    us = [sim.unusable_index(o) for o in range(11)]
    assert us == sorted(us) and all(0.0 <= u <= 1.0 for u in us)
    before = state(sim)   # a refusal in every example, not only when the random ops happen to overflow
    with pytest.raises(ValueError, match="mib"):
        sim.workload.anon(mib=64)
    assert state(sim) == before

    again = bs.Simulation(memory_mib=32, design="legacy", seed=seed)
    assert apply(again, ops) == refused
    assert state(again) == state(sim)
