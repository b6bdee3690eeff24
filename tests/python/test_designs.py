"""Designs, option defaults and constants come from the engine (one place), and what it hands out is a copy."""
import inspect

import pytest


def test_designs_serves_name_kernel_commit_summary_and_parts(bs):
    designs = bs.designs()
    assert [d.name for d in designs] == list(bs.DESIGNS)
    assert bs.DESIGNS[:3] == ("legacy", "redesign", "fixed")
    for d in designs:
        assert d.kernel.startswith("v") and d.commit and d.summary
        assert set(d.parts) >= {"page allocator", "compaction", "migration", "balloon identity", "dequeue walk"}
    legacy, redesign, fixed = designs[:3]
    assert legacy.parts["balloon identity"] == "v3.16" and redesign.parts["balloon identity"] == "v3.18"
    assert fixed.parts["dequeue walk"] == "v4.5" and fixed.parts["balloon migration"] == "2019 stable fix"


def test_designs_list_movable_v4_8_with_its_parts(bs):
    movable = next(d for d in bs.designs() if d.name == "movable")
    assert (movable.kernel, movable.commit) == ("v4.8", "b1123ea6d3b3")
    assert movable.parts == {
        "page allocator": "v3.16", "LRU lists": "v4.8", "reclaim": "v3.16", "background compaction": "v4.8", "compaction": "v3.16",
        "migrate scanner": "v4.8", "migration": "v4.8", "balloon identity": "v4.8", "scanner isolation": "v4.8",
        "dequeue walk": "v4.8", "balloon migration": "v4.8", "driver fill/leak": "v4.8",
        "driver release": "v4.5", "OOM notifier": "v4.5", "balloon stats": "v4.8"}
    fill_leak = {d.name: d.parts["driver fill/leak"] for d in bs.designs()}
    assert fill_leak == {"legacy": "v3.16", "redesign": "v3.16", "fixed": "v3.16", "movable": "v4.8", "v6.1": "v6.1"}
    oom = {d.name: d.parts["OOM notifier"] for d in bs.designs()}
    assert oom == {"legacy": "none", "redesign": "none", "fixed": "v4.5", "movable": "v4.5", "v6.1": "v6.1"}, \
        "virtballoon_oom_notify from v3.19 (v4.5's, unchanged until 5.1); 6.1's is its own"
    background = {d.name: d.parts["background compaction"] for d in bs.designs()}
    assert background == {"legacy": "v3.16", "redesign": "v3.16", "fixed": "v3.16", "movable": "v4.8", "v6.1": "v6.1"}


def test_a_movable_simulation_migrates_balloon_pages_that_stay_movable(bs):
    sim = bs.Simulation(memory_mib=64, design="movable", seed=1)
    sim.workload.anon(mib=40)
    sim.workload.free(fraction=0.5, pattern="interleave")
    sim.balloon.inflate(mib=8)
    sim.workload.free(fraction=1.0)
    result = sim.compact()
    assert sim.design == "movable" and sim.balloon.pages == 8 * bs.PAGES_PER_MIB == sim.host.ballooned_pages
    assert result.migrated > 0 and sim.vmstat()["balloon_migrate"] > 0
    assert sim.report_counts()["balloon_unmovable"] == 0 and sim.reports() == []
    assert "\ncompact_success 0\ncompact_daemon_wake 0\n" in sim.proc_vmstat(), "v4.8's kcompactd counter, never woken here"


def test_unknown_design_is_a_valueerror_listing_every_design(bs):
    with pytest.raises(ValueError) as info:
        bs.Simulation(memory_mib=16, design="v4.8")
    for name in bs.DESIGNS:
        assert name in str(info.value)
    assert "movable" in str(info.value) and "design" in str(info.value)


def test_simulation_defaults_are_the_engines(bs):
    from balloonscript._convert import bindings, pascal
    engine = bindings.PyOptions()
    names = [str(n) for n in bindings.PyOptions.Names()]
    params = inspect.signature(bs.Simulation).parameters
    for name in names:
        assert name in params, f"option {name} is a parameter of Simulation"
        default = getattr(engine, pascal(name))
        assert params[name].default == (str(default) if isinstance(default, str) else default), name
    assert params["cpus"].default == 2, "the engine's default CPU count"


def test_a_simulation_built_with_defaults_reports_them(bs):
    sim = bs.Simulation(memory_mib=16)
    assert sim.options["cpus"] == inspect.signature(bs.Simulation).parameters["cpus"].default
    assert sim.options["design"] == "legacy"


def test_constants_come_from_the_engine(bs):
    assert (bs.MAX_ORDER, bs.PAGEBLOCK_ORDER, bs.PAGE_SIZE, bs.PAGES_PER_MIB) == (11, 9, 4096, 256)


@pytest.mark.parametrize("get", ["PySimulation.FreePatterns", "PySimulation.ReportKindNames", "PySimulation.PageKindNames",
                                 "PyDesigns.Names", "PyExplore.Scenarios", "PyExplore.Strategies"])
def test_name_lists_handed_to_python_are_copies(bs, get):
    """Writing into a list the engine returned must not change the engine (issue 7, item 6)."""
    from balloonscript._convert import bindings
    cls, method = get.split(".")
    fn = getattr(getattr(bindings, cls), method)
    first = fn()
    original = str(first[0])
    first[0] = "nonsense"
    assert str(fn()[0]) == original
    sim = bs.Simulation(memory_mib=16, design=bs.DESIGNS[-1])
    sim.workload.anon(mib=1)
    assert sim.workload.free(fraction=1.0, pattern=bs.FREE_PATTERNS[0]) > 0
