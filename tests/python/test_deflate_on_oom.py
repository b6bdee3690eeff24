"""deflate_on_oom: the host offers VIRTIO_BALLOON_F_DEFLATE_ON_OOM (v3.19+ drivers: fixed, movable, v6.1); an OOM then leaks 256
balloon pages instead of killing. Refused, with a ValueError naming the designs that have it, on the older drivers."""
import pytest

WITH_THE_FEATURE = ["fixed", "movable", "v6.1"]


def _guest(bs, design, **options):
    sim = bs.Simulation(memory_mib=64, design=design, seed=1, per_cpu_lists=False, pagevecs=False, **options)
    sim.workload.anon(mib=8)
    sim.workload.anon(mib=32)
    sim.balloon.inflate(mib=12)
    return sim


@pytest.mark.parametrize("design", WITH_THE_FEATURE)
def test_deflate_on_oom_gives_balloon_pages_back_instead_of_killing(bs, design):
    sim = _guest(bs, design, deflate_on_oom=True)
    assert sim.options["deflate_on_oom"] is True
    got = sim.workload.anon(mib=16)
    v = sim.vmstat()
    assert got == 16 * bs.PAGES_PER_MIB and v["oom_kill"] == 0
    assert v["balloon_deflate"] > 0 and v["balloon_deflate"] % 256 == 0, "256 pages per OOM"
    assert sim.balloon.pages == 12 * bs.PAGES_PER_MIB - v["balloon_deflate"]
    assert sim.host.ballooned_pages + sim.balloon.untold_pages == sim.balloon.pages
    assert sim.reports() == []


@pytest.mark.parametrize("design", WITH_THE_FEATURE)
def test_without_deflate_on_oom_the_oom_killer_kills_and_the_balloon_stays(bs, design):
    sim = _guest(bs, design)
    assert sim.options["deflate_on_oom"] is False, "off by default, as QEMU's deflate-on-oom=off"
    sim.workload.anon(mib=16)
    v = sim.vmstat()
    assert v["oom_kill"] == 1 and v["balloon_deflate"] == 0 and sim.balloon.pages == 12 * bs.PAGES_PER_MIB


@pytest.mark.parametrize("design", ["legacy", "redesign"])
def test_deflate_on_oom_on_an_older_driver_is_a_valueerror_naming_it_and_the_designs(bs, design):
    with pytest.raises(ValueError, match=rf"deflate_on_oom: design {design} has no such setting; "
                                         r"the designs that have it: fixed, movable, v6\.1"):
        bs.Simulation(memory_mib=16, design=design, deflate_on_oom=True)
    assert bs.Simulation(memory_mib=16, design=design, deflate_on_oom=False).options["deflate_on_oom"] is False


def test_deflate_on_oom_must_be_a_bool(bs):
    with pytest.raises(ValueError, match="deflate_on_oom must be True or False"):
        bs.Simulation(memory_mib=16, design="movable", deflate_on_oom=1)
