"""The v6.1 design from Python: its sysctls (and the older designs refusing them), 6.1's /proc/vmstat names and
migratetypes, kcompactd on the simulated clock."""
import pytest

from conftest import SCENARIO_GUEST

V61_SYSCTLS = ["compaction_proactiveness", "watermark_boost_factor", "watermark_scale_factor"]


def test_v61_is_a_design(bs):
    assert "v6.1" in bs.DESIGNS
    parts = {d.name: d.parts for d in bs.designs()}["v6.1"]
    assert (parts["page allocator"], parts["LRU lists"], parts["compaction"], parts["reclaim"]) == ("v6.1",) * 4


def test_v61_takes_its_sysctls(bs):
    sim = bs.Simulation(memory_mib=64, design="v6.1", compaction_proactiveness=0, watermark_boost_factor=0,
                        watermark_scale_factor=100)
    assert (sim.options["compaction_proactiveness"], sim.options["watermark_scale_factor"]) == (0, 100)
    sim.workload.anon(mib=40)
    sim.workload.free(fraction=0.5, pattern="interleave")
    sim.run(ms=2000)
    assert sim.vmstat()["compact_migrate_scanned"] == 0, "proactiveness 0: kcompactd never wakes on the clock"
    assert sum(sim.report_counts().values()) == 0


def test_v61_sysctls_default_to_none_meaning_the_kernels_default(bs):
    sim = bs.Simulation(memory_mib=16, design="v6.1")
    assert all(sim.options[o] is None for o in V61_SYSCTLS)


@pytest.mark.parametrize("design", ["legacy", "redesign", "fixed"])
@pytest.mark.parametrize("option", V61_SYSCTLS)
def test_v61_sysctl_on_an_older_design_is_a_valueerror_naming_it_and_v61(bs, design, option):
    with pytest.raises(ValueError, match=rf"{option}: design {design} has no such setting; the designs that have it: v6\.1"):
        bs.Simulation(memory_mib=16, design=design, **{option: 20})


@pytest.mark.parametrize("option, value, allowed", [("compaction_proactiveness", 101, r"\[0, 100\]"),
                                                    ("watermark_scale_factor", 0, r"\[1, 3000\]")])
def test_v61_sysctl_out_of_range_is_a_valueerror_naming_the_range(bs, option, value, allowed):
    with pytest.raises(ValueError, match=rf"{option} must be in {allowed}"):
        bs.Simulation(memory_mib=16, design="v6.1", **{option: value})


def test_v61_proc_vmstat_has_the_kcompactd_and_balloon_counters(bs):
    sim = bs.Simulation(memory_mib=64, design="v6.1")
    names = [line.split()[0] for line in sim.proc_vmstat().splitlines()]
    for name in ["compact_daemon_wake", "compact_daemon_migrate_scanned", "compact_daemon_free_scanned",
                 "balloon_inflate", "balloon_deflate", "balloon_migrate", "pgalloc_device", "numa_hit"]:
        assert name in names
    # KCOMPACTD_WAKE & co. are enum names; 6.1's vmstat_text prints them as compact_daemon_*: no kcompactd_* line.
    assert not [n for n in names if n.startswith("kcompactd_")]
    assert "compact_daemon_wake" in sim.vmstat()
    assert "compact_daemon_wake" not in bs.Simulation(memory_mib=16, design="fixed").proc_vmstat()


def test_v61_migratetypes_are_61s(bs):
    sim = bs.Simulation(memory_mib=16, design="v6.1")
    assert sim.migratetypes == ("Unmovable", "Movable", "Reclaimable", "HighAtomic", "CMA", "Isolate")
    assert set(sim.pageblock_migratetypes()) == {1}, "every pageblock MOVABLE at boot"
    from balloonscript.simulation import MIGRATETYPES
    assert bs.Simulation(memory_mib=16, design="legacy").migratetypes == MIGRATETYPES
    assert "HighAtomic" in sim.pagetypeinfo()


def test_v61_kcompactd_wakes_on_the_clock(bs):
    sim = bs.Simulation(memory_mib=64, design="v6.1", seed=1, **SCENARIO_GUEST)
    sim.workload.slab(mib=60)
    sim.workload.free(fraction=0.5, pattern="interleave")
    sim.run(ms=400)
    assert sim.vmstat()["compact_migrate_scanned"] == 0
    sim.run(ms=200)
    assert sim.vmstat()["compact_migrate_scanned"] > 0, "the proactive check at 500 ms scanned the node"


def test_v61_reclaims_the_node_and_counts_per_reclaimer_and_type(bs):
    """6.1's node reclaim counts pgscan/pgsteal per reclaimer and per type (the same pages both ways), none of v3.16's
    per-zone items, and /proc/vmstat prints them under 6.1's names."""
    sim = bs.Simulation(memory_mib=64, design="v6.1", seed=1)
    sim.workload.file(mib=40)
    sim.workload.anon(mib=30)
    v = sim.vmstat()
    assert v["pgscan_kswapd"] > 0 and v["pgsteal_kswapd"] > 0
    assert v["pgscan_kswapd"] + v["pgscan_direct"] == v["pgscan_anon"] + v["pgscan_file"]
    assert v["pgsteal_kswapd"] + v["pgsteal_direct"] == v["pgsteal_anon"] + v["pgsteal_file"]
    assert sum(v[k] for k in v if k.startswith(("pgscan_kswapd_", "pgsteal_kswapd_"))) == 0
    assert f"\npgsteal_kswapd {v['pgsteal_kswapd']}\n" in sim.proc_vmstat()
    assert "node_unreclaimable:  0" in sim.zoneinfo()
    assert sum(sim.report_counts().values()) == 0
