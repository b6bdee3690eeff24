"""Live migration (``sim.host.migrate``: QEMU's precopy) and what the balloon, free page reporting and free page hinting
(``free_page_hint=True``) save it: a frame the host backs is sent whole, one it does not back as a zero page, a free
block hinted during the migration not at all."""
import pytest


def _guest_that_freed_what_it_used(bs, **options):
    sim = bs.Simulation(memory_mib=1024, design="v6.1", seed=1, **options)
    sim.workload.anon(mib=600)
    sim.workload.free(1.0)  # the host still backs the 600 MiB the guest no longer uses
    return sim


def test_balloon_reporting_and_hinting_each_spare_the_migration_the_memory_the_guest_freed(bs):
    plain = _guest_that_freed_what_it_used(bs)
    written = plain.host.resident_pages
    sent = {"plain": plain.host.migrate()}
    assert sent["plain"]["normal"] == written, "an idle guest: every frame written is sent whole, once"

    balloon = _guest_that_freed_what_it_used(bs)
    balloon.balloon.inflate(mib=500)
    sent["balloon"] = balloon.host.migrate()

    reporting = _guest_that_freed_what_it_used(bs, free_page_reporting=True)
    reporting.run(10_000)  # the reports two seconds after the frees, and the passes after them
    sent["reporting"] = reporting.host.migrate()

    hinting = _guest_that_freed_what_it_used(bs, free_page_hint=True)
    sent["hinting"] = hinting.host.migrate()

    mib = {name: m["transferred"] / 2**20 for name, m in sent.items()}
    assert mib["plain"] > 600
    assert mib["balloon"] < mib["plain"] - 450, "the balloon's frames were discarded: zero pages, 9 bytes each"
    assert mib["reporting"] < mib["plain"] - 500, "reported blocks were discarded too"
    assert mib["hinting"] < 30, "hinted blocks are not sent at all"
    assert sent["hinting"]["hinted_pages"] > 600 * bs.PAGES_PER_MIB
    assert all(m["status"] == "completed" and m["remaining"] == 0 for m in sent.values())
    assert sent["hinting"]["total_time_ms"] < sent["plain"]["total_time_ms"] / 10
    assert hinting.balloon.hint_blocks == 0, "the host's DONE gave every block back"
    assert hinting.host.resident_pages == sent["hinting"]["normal"], "the destination backs only what was sent whole"
    assert not any(sim.reports() for sim in (plain, balloon, reporting, hinting)), "the page-state checks found nothing"


def test_what_the_workload_writes_during_the_migration_is_sent_again(bs):
    from balloonscript import plots
    sim = bs.Simulation(memory_mib=512, design="fixed", seed=1)
    sim.workload.anon(mib=200)
    start = sim.host.migrate(bandwidth_mib_s=64, wait=False)
    assert start["status"] == "active" and start["dirty_sync_count"] == 1
    for _ in range(20):
        sim.workload.free(0.02)
        sim.workload.anon(mib=4)  # 40 MiB/s, below the link's 64: it converges
        sim.run(100)
    while sim.host.migration()["status"] == "active":
        sim.run(100)
    end = sim.host.migration()
    timeline = sim.history()
    ax = plots.plot_migration(sim, label="fixed")
    drawn = ax.get_lines()[0].get_ydata()
    assert drawn[0] == 512, "the setup's bitmap: every frame of the 512 MiB guest"
    assert drawn[-1] == 0 and len(drawn) == len(timeline) - timeline.index[timeline["op"] == "host.migrate"][-1]
    assert timeline["migration_transferred"].is_monotonic_increasing and timeline["migration_transferred"].iloc[-1] == end["transferred"]
    assert timeline["migration_remaining"].iloc[-1] == 0 and timeline["migration_remaining"].max() > 200 * bs.PAGES_PER_MIB
    assert end["status"] == "completed"
    assert end["normal"] > sim.host.resident_pages + bs.PAGES_PER_MIB, \
        "frames written after they were sent went whole again: more pages sent whole than the destination holds"
    assert end["dirty_sync_count"] >= 3
    assert end["total_time_ms"] >= end["downtime_ms"] > 0
    assert not sim.reports()


def test_held_hint_blocks_go_back_to_the_guest_under_memory_pressure(bs):
    sim = bs.Simulation(memory_mib=512, design="v6.1", seed=1, free_page_hint=True)
    sim.host.migrate(bandwidth_mib_s=1, wait=False)
    sim.run(0)
    held = sim.balloon.hint_blocks
    assert held * 4 > 400, "the hint work took the free memory in 4 MiB blocks"
    assert sim.workload.anon(mib=300) == 300 * bs.PAGES_PER_MIB, "reclaim's shrinker took blocks back for the fault"
    assert sim.balloon.hint_blocks < held - 300 / 4
    sim.host.migrate_cancel()
    sim.run(0)
    assert sim.host.migration()["status"] == "cancelled" and sim.balloon.hint_blocks == 0
    assert not sim.reports(), "a held block's pages are in a state the page-state check knows"


def test_bad_arguments_raise_value_error_and_leave_the_simulation_usable(bs):
    from balloonscript import plots
    sim = bs.Simulation(memory_mib=256, design="v6.1", seed=1)
    with pytest.raises(ValueError, match="no migration"):
        plots.plot_migration(sim)
    for kwargs, name in (({"bandwidth_mib_s": 0}, "bandwidth_mib_s"), ({"bandwidth_mib_s": "fast"}, "bandwidth_mib_s"),
                         ({"downtime_limit_ms": -1}, "downtime_limit_ms"), ({"wait": "yes"}, "wait")):
        with pytest.raises(ValueError, match=name):
            sim.host.migrate(**kwargs)
    assert sim.host.migration()["status"] == "none"
    sim.host.migrate(bandwidth_mib_s=1, wait=False)
    with pytest.raises(ValueError, match="a migration is running"):
        sim.host.migrate()
    sim.host.migrate_cancel()
    assert sim.host.migrate()["status"] == "completed"
    with pytest.raises(ValueError, match="free_page_hint"):
        bs.Simulation(memory_mib=256, design="movable", free_page_hint=True)


def test_a_fork_mid_migration_finishes_it_as_the_original_does(bs):
    sim = bs.Simulation(memory_mib=512, design="v6.1", seed=1, free_page_hint=True)
    sim.workload.anon(mib=200)
    sim.workload.free(0.5, pattern="interleave")
    sim.host.migrate(bandwidth_mib_s=16, wait=False)
    sim.run(500)
    fork = sim.fork()
    assert fork.host.migration() == sim.host.migration() and fork.balloon.hint_blocks == sim.balloon.hint_blocks > 0
    for s in (sim, fork):
        while s.host.migration()["status"] == "active":
            s.run(1000)
    assert fork.host.migration() == sim.host.migration()
    assert fork.host.resident_pages == sim.host.resident_pages
    assert not sim.reports() and not fork.reports()
