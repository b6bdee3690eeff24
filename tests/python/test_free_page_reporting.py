"""free_page_reporting: the host offers VIRTIO_BALLOON_F_REPORTING (v5.7+; the v6.1 design): two seconds after big blocks
are freed the kernel reports free 2 MiB+ blocks to the host, 32 at a time, and the host discards them. Refused, with a
ValueError naming the designs that have it, on the older kernels."""
import pytest


def _guest(bs, **options):
    return bs.Simulation(memory_mib=512, design="v6.1", seed=1, **options)


def test_free_page_reporting_is_off_by_default_and_reports_nothing(bs):
    sim = _guest(bs)
    assert sim.options["free_page_reporting"] is False, "off by default, as QEMU's free-page-reporting=off"
    sim.run(5000)
    assert (sim.host.reports, sim.host.reported_pages, sim.reported_free_pages) == (0, 0, 0)


def test_the_host_discards_free_blocks_two_seconds_after_the_probe_and_after_big_frees(bs):
    sim = _guest(bs, free_page_reporting=True)
    sim.run(1999)
    assert sim.host.reports == 0, "PAGE_REPORTING_DELAY: 2 s"
    sim.run(1)
    first = sim.host.reported_pages
    assert sim.host.reports == 2 and first == sim.reported_free_pages == 2 * 32 * 4 * bs.PAGES_PER_MIB, \
        "a list's budget: two reports of 32 free 4 MiB blocks, the rest in passes two seconds apart"
    sim.run(10_000)
    reported = sim.reported_free_pages
    assert reported > first and sim.host.reported_pages == reported, "nothing was taken back: each frame reported once"

    sim.workload.anon(mib=200)
    taken = reported - sim.reported_free_pages
    assert taken >= 200 * bs.PAGES_PER_MIB, "the guest's allocations took reported blocks back (PG_reported cleared)"
    sim.workload.free(1.0)
    sim.run(10_000)
    fb = sim.free_blocks()
    assert sim.reported_free_pages == sum(int(fb[o]) << o for o in (9, 10)) - 16 * bs.PAGES_PER_MIB, \
        "every free block of 2 MiB and up reported again, but for the DMA zone's 16 MiB (too small to be reported)"
    assert sim.host.reported_pages > reported and sim.reports() == []
    last = sim.history().iloc[-1]
    assert (last["host_reported"], last["reported_free"]) == (sim.host.reported_pages, sim.reported_free_pages)


def test_page_reporting_order_reports_smaller_guests_and_is_checked(bs):
    """Order 5 (as written to the module parameter after boot): a zone needs only 32 free 128 KiB blocks above its low
    watermark, so a 64 MiB guest is reported; at the default order 9 it is not."""
    for order, reported in ((None, False), (5, True)):
        sim = bs.Simulation(memory_mib=64, design="v6.1", seed=1, free_page_reporting=True, page_reporting_order=order)
        assert sim.options["page_reporting_order"] == order
        sim.run(2000)
        assert (sim.host.reports > 0) is reported and sim.reported_free_pages == sim.host.reported_pages
    with pytest.raises(ValueError, match=r"page_reporting_order.*set free_page_reporting=True too"):
        bs.Simulation(memory_mib=64, design="v6.1", page_reporting_order=5)
    with pytest.raises(ValueError, match=r"page_reporting_order must be in \[0, 10\], got 11"):
        bs.Simulation(memory_mib=64, design="v6.1", free_page_reporting=True, page_reporting_order=11)


@pytest.mark.parametrize("design", ["legacy", "redesign", "fixed", "movable"])
def test_free_page_reporting_on_an_older_kernel_is_a_valueerror_naming_it_and_the_designs(bs, design):
    with pytest.raises(ValueError, match=rf"free_page_reporting: design {design} has no such setting; "
                                         r"the designs that have it: v6\.1"):
        bs.Simulation(memory_mib=64, design=design, free_page_reporting=True)


def test_a_race_runs_a_reporting_pass_against_compaction_and_finds_nothing(bs):
    sim = bs.Simulation(memory_mib=128, design="v6.1", seed=5, cpus=2, free_page_reporting=True)
    sim.workload.anon(mib=16)
    sim.workload.free(0.5, pattern="random", seed=1)
    race = sim.race(cpu0=[bs.op.report()], cpu1=[bs.op.compact(zone="DMA32", mode="async"), bs.op.allocate(order=9, count=2)])
    assert race.explore(strategy="random", schedules=20, seed=1, progress=False).failing == 0
    with pytest.raises(ValueError, match="has no report operation: it was built without free_page_reporting"):
        bs.Simulation(memory_mib=64, design="v6.1", cpus=2).race(cpu0=[bs.op.report()], cpu1=[bs.op.compact()])
