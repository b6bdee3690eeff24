"""The host memory behind the guest (``sim.host.resident_pages``, ``faults``, ``refaults``): a frame is backed from the
guest's first write until the host discards it (the balloon's inflation, a free page report); deflating maps nothing
in, so memory given back faults again when the guest writes it."""
import numpy as np
import pytest


@pytest.mark.parametrize("design", ["legacy", "v6.1"])
def test_memory_given_back_by_the_balloon_refaults_when_written_again(bs, design):
    sim = bs.Simulation(memory_mib=512, design=design, seed=1)
    host = sim.host
    assert (host.resident_pages, host.faults, host.refaults) == (0, 0, 0), "nothing written at boot"
    sim.workload.anon(mib=256)
    resident = host.resident_pages
    assert resident == host.faults >= 256 * bs.PAGES_PER_MIB, "each page written once: one fault each, page tables too"

    sim.workload.free(1.0)
    assert host.resident_pages == resident, "a guest's free gives nothing back to the host"
    sim.balloon.inflate(mib=256)
    given_back = resident - host.resident_pages
    assert given_back > 128 * bs.PAGES_PER_MIB, "the balloon took the freed frames, and the host discarded them"
    sim.balloon.deflate(mib=256)
    assert (host.resident_pages, host.refaults) == (resident - given_back, 0), "deflating maps nothing in"

    sim.workload.anon(mib=256)
    assert 0 < host.refaults <= given_back, "the guest wrote discarded frames again"
    last = sim.history().iloc[-1]
    assert (last["host_resident"], last["host_refaults"], last["host_deferred_split"]) == \
        (host.resident_pages, host.refaults, host.deferred_split_pages)


@pytest.mark.parametrize("design", ["legacy", "v6.1"])
def test_host_thp_maps_2_mib_at_a_fault_and_the_balloon_splits_what_it_takes(bs, design):
    sim = bs.Simulation(memory_mib=512, design=design, seed=1, host_thp=True)
    host = sim.host
    sim.workload.anon(mib=256)
    assert host.huge_pages * 512 == host.resident_pages >= 256 * bs.PAGES_PER_MIB and host.faults == host.huge_pages, \
        "one fault a 2 MiB region, every region written mapped huge"
    sim.workload.free(1.0, pattern="interleave")
    huge, resident = host.huge_pages, host.resident_pages
    sim.balloon.inflate(mib=8)
    assert host.thp_splits > 0 and host.huge_pages == huge - host.thp_splits, "each 4 KiB discard in a huge page splits it"
    assert host.resident_pages == resident - 8 * bs.PAGES_PER_MIB and host.ballooned_resident_pages == 0, \
        "the balloon took written frames: each discarded, 4 KiB at a time"
    plain = bs.Simulation(memory_mib=512, design=design, seed=1)
    plain.workload.anon(mib=256)
    assert (plain.host.huge_pages, plain.host.thp_splits) == (0, 0) and plain.host.faults == plain.host.resident_pages


def test_host_thp_is_a_bool_option(bs):
    with pytest.raises(ValueError, match="host_thp"):
        bs.Simulation(memory_mib=64, host_thp="yes")
    assert bs.Simulation(memory_mib=64).options["host_thp"] is False


def test_free_page_reporting_keeps_the_host_resident_set_near_what_the_guest_uses(bs):
    """A guest that used 400 MiB and freed it: without reporting the host keeps all of it; with reporting, two seconds
    later the host has discarded the free 2 MiB blocks, and an allocation of them refaults."""
    resident = {}
    for reporting in (False, True):
        sim = bs.Simulation(memory_mib=512, design="v6.1", seed=1, free_page_reporting=reporting)
        sim.workload.anon(mib=400)
        sim.workload.free(1.0)
        sim.run(10_000)
        resident[reporting] = sim.host.resident_pages
        sim.workload.anon(mib=100)
        assert (sim.host.refaults > 0) is reporting
    assert resident[False] >= 400 * bs.PAGES_PER_MIB
    assert resident[True] < 16 * bs.PAGES_PER_MIB, "the page tables stay, and what the workload wrote in DMA (never reported)"


@pytest.mark.parametrize("host_thp", [False, True])
def test_the_host_map_is_every_frame_as_the_host_backs_it_and_plots(bs, host_thp):
    import matplotlib.pyplot as plt
    from balloonscript import plots
    sim = bs.Simulation(memory_mib=256, design="fixed", seed=1, host_thp=host_thp)
    sim.workload.anon(mib=100)
    sim.workload.free(1.0, pattern="interleave")
    sim.balloon.inflate(mib=20)
    hm = sim.host.map()
    assert hm.dtype == np.uint8 and hm.size == 256 * bs.PAGES_PER_MIB and set(np.unique(hm)) <= {0, 1, 2, 3}
    counts = np.bincount(hm, minlength=len(bs.HOST_MAP_STATES))
    assert counts[1] + counts[2] == sim.host.resident_pages and counts[2] == 512 * sim.host.huge_pages
    assert counts[3] == 20 * bs.PAGES_PER_MIB, "the balloon took frames the workload had written: each discarded"
    assert bool(counts[2]) == host_thp, "huge pages only on a host with THP"
    ax = plots.plot_host_map(sim)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert [label.split(" (")[0] for label in labels] == list(bs.HOST_MAP_STATES)
    assert f"({sim.host.resident_pages / bs.PAGES_PER_MIB:.0f} MiB resident)" in ax.get_title()
    plt.close("all")


def test_the_hosts_khugepaged_backs_the_balloons_holes_again_unless_max_ptes_none_forbids_it(bs):
    """A balloon on a host with THP splits the huge pages its frames were in; as simulated time passes the host's
    khugepaged collapses each split region into a huge page again (8 regions every 10 s) and backs the ballooned frames
    with zeros: the memory the balloon gave back returns to the host. max_ptes_none=0 leaves regions with holes alone."""
    resident = {}
    for max_ptes_none in (None, 0):
        sim = bs.Simulation(memory_mib=256, design="v6.1", seed=1, host_thp=True,
                            host_khugepaged_max_ptes_none=max_ptes_none)
        host = sim.host
        sim.workload.anon(mib=192)
        sim.workload.free(0.5)
        sim.balloon.inflate(mib=64)
        splits, huge, before = host.thp_splits, host.huge_pages, host.resident_pages
        assert splits > 32 and host.ballooned_resident_pages == 0, "the balloon's frames, scattered, split many huge pages"
        in_use = before + host.deferred_split_pages
        assert host.deferred_split_pages == 64 * bs.PAGES_PER_MIB, "unmapped, yet held by the split huge pages"
        sim.run(170_000)   # 128 regions at 8 a wake-up: the boot scan and 16 more end the first pass
        resident[max_ptes_none] = host.resident_pages
        k = host.khugepaged()
        assert (k["pages_to_scan"], k["scan_sleep_millisecs"], k["full_scans"]) == (4096, 10_000, 1)
        if max_ptes_none is None:
            assert k["max_ptes_none"] == 511 and k["pages_collapsed"] == splits and host.huge_pages == huge + splits
            assert host.ballooned_resident_pages == 64 * bs.PAGES_PER_MIB == host.resident_pages - before, \
                "every ballooned frame is backed again"
        else:
            assert k["max_ptes_none"] == 0 and k["pages_collapsed"] == 0 and k["thp_scan_exceed_none_pte"] == splits
            assert host.resident_pages == before and host.ballooned_resident_pages == 0
            held = host.deferred_split_pages
            assert host.drop_caches() == held == 64 * bs.PAGES_PER_MIB and host.deferred_split_pages == 0, \
                "the host's drop_caches runs the deferred split: the balloon's frames are freed at last"
            in_use -= held
            assert sim.history().iloc[-1]["op"] == "host.drop_caches"
        assert host.resident_pages + host.deferred_split_pages == in_use, "a collapse frees the old huge page it copies"
        assert sum(sim.report_counts().values()) == 0
    assert resident[None] - resident[0] == 64 * bs.PAGES_PER_MIB


@pytest.mark.parametrize("option, value", [("host_khugepaged_max_ptes_none", 512), ("host_khugepaged_max_ptes_none", -1),
                                           ("host_khugepaged_scan_sleep_ms", 0), ("host_khugepaged_scan_sleep_ms", 3_600_001),
                                           ("host_khugepaged_max_ptes_none", 1.5), ("host_khugepaged_scan_sleep_ms", "10"),
                                           ("host_khugepaged_pages_to_scan", 0), ("host_khugepaged_pages_to_scan", 2**31)])
def test_khugepaged_settings_are_checked_and_need_host_thp(bs, option, value):
    with pytest.raises(ValueError, match=option):
        bs.Simulation(memory_mib=64, host_thp=True, **{option: value})
    with pytest.raises(ValueError, match="host_thp=True"):
        bs.Simulation(memory_mib=64, **{option: 100})
    assert bs.Simulation(memory_mib=64, host_thp=True, **{option: 100}).host.khugepaged()[
        {"host_khugepaged_max_ptes_none": "max_ptes_none", "host_khugepaged_scan_sleep_ms": "scan_sleep_millisecs",
         "host_khugepaged_pages_to_scan": "pages_to_scan"}[option]] == 100


def test_qemus_memory_cgroup_frees_what_split_huge_pages_hold_when_the_guest_reaches_its_limit(bs):
    """A balloon inflated on a THP host and deflated again leaves its frames held by the huge pages it split; the guest
    writing them again gets new pages beside the held ones, so without a limit the host holds more than the guest's RAM.
    With QEMU's memory.max at the guest's RAM, the charge that would pass it reclaims in the cgroup first, which splits
    those huge pages (memory.events' max counts it)."""
    in_use = {}
    for limit in (None, 256):
        sim = bs.Simulation(memory_mib=256, design="v6.1", seed=1, host_thp=True, host_memory_max_mib=limit)
        sim.workload.anon(mib=192)
        sim.workload.free(0.5)
        sim.balloon.inflate(mib=64)
        sim.balloon.deflate(mib=64)
        sim.workload.anon(mib=128)
        h = sim.history().set_index("op")   # the held frames over time: 64 MiB from the inflation on, until the limit
        assert h.loc["balloon.inflate", "host_deferred_split"] == h.loc["balloon.deflate", "host_deferred_split"] == 64 * bs.PAGES_PER_MIB
        assert h["host_deferred_split"].iloc[-1] == sim.host.deferred_split_pages == (64 * bs.PAGES_PER_MIB if limit is None else 0)
        memcg = sim.host.memcg()   # the binding's names in the engine's order: the charged pages are the held ones
        assert memcg["memory_current"] == sim.host.resident_pages + sim.host.deferred_split_pages
        assert memcg["memory_max"] == (None if limit is None else limit * bs.PAGES_PER_MIB)
        in_use[limit] = memcg["memory_current"]
        if limit is None:
            assert memcg["memory_events_max"] == 0 and in_use[limit] > 256 * bs.PAGES_PER_MIB
        else:
            assert memcg["memory_events_max"] >= 1 and in_use[limit] <= memcg["memory_max"]
        assert sum(sim.report_counts().values()) == 0
    assert in_use[256] < in_use[None]


@pytest.mark.parametrize("value", [63, 131_073, 64.5, "64", True])
def test_a_memory_limit_below_the_guests_ram_or_not_an_integer_is_refused(bs, value):
    with pytest.raises(ValueError, match="host_memory_max_mib"):
        bs.Simulation(memory_mib=64, host_memory_max_mib=value)
    assert bs.Simulation(memory_mib=64, host_memory_max_mib=64).host.memcg()["memory_max"] == 64 * bs.PAGES_PER_MIB
