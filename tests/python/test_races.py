"""Races written in Python: sim.race(cpu0=[bs.op...], ...) from a prepared simulation, explored by the engine."""
import numpy as np
import pytest

from conftest import SCENARIO_GUEST


@pytest.fixture()
def guest(bs):
    """deflate-vs-isolate's guest: one anon page, then four balloon pages right after it."""
    sim = bs.Simulation(memory_mib=16, design="legacy", cpus=2, seed=1, **SCENARIO_GUEST)
    sim.workload.anon(mib=1 / 256)
    sim.balloon.inflate(mib=4 / 256)
    return sim


def lru_page(bs, sim):
    return int(np.flatnonzero(sim.page_map() == bs.PageKind.anon)[0])


def test_ops_are_built_from_the_engine_table(bs):
    assert {"inflate", "deflate", "compact", "allocate", "anon", "file", "free", "migrate", "isolate"} <= set(bs.op.kinds())
    op = bs.op.deflate(pages=16)
    assert (op.kind, op.args, repr(op)) == ("deflate", (("pages", 16),), "deflate(pages=16)")
    assert repr(bs.op.isolate(then="migrate")) == "isolate(then='migrate')"
    assert "leak_balloon" in bs.op.deflate.__doc__


def test_a_race_written_in_python_finds_what_the_preset_finds(bs, guest):
    race = guest.race(cpu0=[bs.op.deflate(pages=4)], cpu1=[bs.op.isolate(start=lru_page(bs, guest))])
    assert [cpu for cpu, _ in race.tasks] == [0, 1] and race.tasks[0][1] == "leak_balloon(4)"
    mine = race.explore(strategy="random", schedules=150, seed=1, progress=False)
    preset = bs.explore("deflate-vs-isolate", design="legacy", schedules=150, seed=1, progress=False)
    assert mine.failing > 0
    assert (mine.failing_indices, mine.failing_by_kind) == (preset.failing_indices, preset.failing_by_kind)
    assert mine.first_failure.replay().reports == mine.first_failure.reports


def test_building_and_exploring_a_race_leaves_the_simulation_as_it_was(bs, guest):
    before = (guest.page_map().tobytes(), guest.vmstat(), len(guest.history()))
    race = guest.race(cpu0=[bs.op.deflate(pages=4)], cpu1=[bs.op.migrate(pfn=lru_page(bs, guest))])
    race.explore(schedules=20, progress=False)
    assert (guest.page_map().tobytes(), guest.vmstat(), len(guest.history())) == before


def test_run_runs_every_path_to_completion(bs, guest):
    run = guest.race(cpu0=[bs.op.inflate(pages=8), bs.op.deflate(pages=2)]).run()
    assert run.reports == [] and run.metrics["balloon_pages"] == 6


@pytest.mark.parametrize("cpus, message", [
    ({}, "no CPU has operations"),
    ({"cpu0": []}, "cpu0: empty list of operations"),
    ({"cpu2": ["deflate"]}, "cpu2: no such CPU"),
    ({"cpu0": ["deflate"], "cpu1": ["deflate"], "cpu5": ["deflate"]}, "3 CPUs have operations, but the simulation has 2"),
    ({"cpu0": ["kswapd"]}, r"this simulation \(legacy\) has no kswapd operation: it was built with reclaim=False"),
    ({"cpu0": ["migrate0"]}, "pfn 0 is not on an LRU list"),
    ({"cpu0": ["deflate"], "cpu1": ["deflate"]}, "inflate and deflate run on the balloon driver's one thread"),
    ({"core0": ["deflate"]}, "core0: a race takes one list of operations per CPU"),
    ({"cpu0": "deflate"}, "cpu0 must be a list of bs.op operations"),
])
def test_bad_races_raise_valueerror_naming_the_problem_and_change_nothing(bs, guest, cpus, message):
    ops = {"deflate": bs.op.deflate(pages=1), "kswapd": bs.op.kswapd(), "migrate0": bs.op.migrate(pfn=0)}
    cpus = {k: [ops[o] for o in v] if isinstance(v, list) else v for k, v in cpus.items()}
    before = guest.page_map().tobytes()
    with pytest.raises(ValueError, match=message):
        guest.race(**cpus)
    assert guest.page_map().tobytes() == before


@pytest.mark.parametrize("make, message", [
    (lambda op: op.deflate(), "deflate: missing a required argument: 'pages'"),
    (lambda op: op.deflate(pages=1.5), "pages must be an integer"),
    (lambda op: op.compact(speed=1), "compact: got an unexpected keyword argument 'speed'"),
])
def test_bad_operations_raise_valueerror(bs, make, message):
    with pytest.raises(ValueError, match=message):
        make(bs.op)


def test_new_presets_newpage_race_in_redesign_only(bs):
    assert {"inflate-vs-compact", "newpage-after-unlock"} <= set(bs.scenarios())
    redesign = bs.explore("newpage-after-unlock", design="redesign", strategy="dfs", depth=2, schedules=5000, progress=False)
    fixed = bs.explore("newpage-after-unlock", design="fixed", strategy="dfs", depth=2, schedules=5000, progress=False)
    assert redesign.exhausted and fixed.exhausted
    assert "bad_page" in redesign.failing_by_kind and fixed.failing == 0


def test_readme_race_example_runs(bs, repo, monkeypatch, tmp_path):
    import re
    blocks = [b for b in re.findall(r"```python\n(.*?)```", (repo / "README.md").read_text(), re.S) if "sim.race(" in b]
    assert blocks, "README.md has no sim.race example"
    monkeypatch.chdir(tmp_path)
    scope = {}
    exec(compile(blocks[0], "README.md", "exec"), scope)
    assert scope["res"].failing > 0 and scope["run"].signature == scope["res"].groups[0].signature
    assert (tmp_path / "out" / "race.json").is_file() and scope["again"].reports
