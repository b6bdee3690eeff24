"""What an exploration gives back: every failing schedule replayable by index, failures grouped by how they failed,
a minimal failing schedule per group, traces for Perfetto and as text, a loud dfs that did not finish, and the same
result from a dask cluster as from a serial run."""
import json
import sys
import warnings
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def res(bs):
    return bs.explore("deflate-vs-isolate", design="legacy", schedules=200, seed=1, progress=False)


def test_every_failing_schedule_replays_by_index(res):
    assert res.failing == len(res.failures) == len(res.failing_indices) > 3
    for record in res.failures[:5]:
        run = res.failure(record.index)
        assert (run.index, run.choices, run.signature) == (record.index, list(record.choices), record.signature)
        assert run.replay().reports == run.reports
    assert res.failure(res.failing_indices[0]).reports == res.first_failure.reports


def test_a_long_race_keeps_each_failure_as_a_few_runs_of_decisions(bs):
    """Two compactions of a 32 MiB legacy guest: ~33,000 decisions a schedule, every schedule failing (defect 2). A
    failure keeps its decisions as runs (task, count), so a dfs keeping thousands of them stays small; ``choices``
    gives every decision back, and the failure replays from it."""
    sim = bs.Simulation(memory_mib=32, cpus=2, seed=427, per_cpu_lists=False, reclaim=False, timeslice_ms=0,
                        host_us_per_page=1)
    sim.workload.anon(mib=15)
    sim.balloon.inflate(mib=2)
    sim.workload.free(fraction=0.8, pattern="random", seed=62)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)   # the dfs is capped at 30 schedules, far from its bound
        res = sim.race(cpu0=[bs.op.compact()], cpu1=[bs.op.compact()]).explore(strategy="dfs", depth=1, schedules=30,
                                                                               progress=False)
    assert res.failing == 30
    record = res.failures[-1]
    assert len(record.choices) > 10_000 and len(record.choice_runs) < 20
    assert sum(record.choice_runs[1::2]) == len(record.choices)
    assert res.failure(record.index).choices == list(record.choices)


def test_failure_of_a_schedule_that_did_not_fail_is_a_valueerror(res):
    passed = next(i for i in range(res.schedules) if i not in res.failing_indices)
    with pytest.raises(ValueError, match=f"schedule {passed} did not fail"):
        res.failure(passed)


def test_groups_partition_the_failures_by_signature(res):
    groups = res.groups
    assert sum(g.count for g in groups) == res.failing
    assert [g.count for g in groups] == sorted((g.count for g in groups), reverse=True)
    for g in groups:
        assert all(res.failures[res.failing_indices.index(i)].signature == g.signature for i in g.indices)
        assert g.fewest.preemptions == min(f.preemptions for f in res.failures if f.signature == g.signature)
    assert any("page_leak" in g.signature for g in groups)


def test_minimal_keeps_the_failure_with_fewer_preemptions(res):
    group = res.groups[0]
    minimal = group.minimal()
    assert minimal.signature == group.signature
    assert minimal.preemptions < group.fewest.preemptions and minimal.preemptions <= 3
    assert minimal.replay().reports == minimal.reports


def test_chrome_trace_is_trace_event_json_with_a_track_per_cpu_and_the_reports(res, tmp_path):
    run = res.first_failure
    path = run.to_chrome_trace(tmp_path / "trace" / "t.json")
    doc = json.loads(path.read_text())
    events = doc["traceEvents"]
    names = {e["tid"]: e["args"]["name"] for e in events if e["ph"] == "M" and e["name"] == "thread_name"}
    assert sorted(names) == [0, 1] and names[0].startswith("CPU0: vballoon") and names[1].startswith("CPU1: compaction")
    slices = [e for e in events if e["ph"] == "X"]
    assert len(slices) == len(run.trace)
    assert [s["args"]["step"] for s in slices] == run.trace["step"].tolist()
    assert all(s["dur"] >= 1 and s["ts"] + s["dur"] == s["args"]["step"] for s in slices)
    instants = [e for e in events if e["ph"] == "i"]
    assert [(e["name"], e["ts"], e["tid"]) for e in instants] == [(r.kind, r.step, r.cpu) for r in run.reports]
    assert doc["otherData"]["choices"] == run.choices


def test_text_lists_every_point_and_report(res):
    run = res.first_failure
    text = run.to_text()
    assert text.startswith(f"schedule {run.index}: {len(run.trace)} points, {run.preemptions} preemptions")
    assert all(point in text for point in run.trace["point"])
    assert all(r.message in text for r in run.reports)


def test_dfs_that_stops_early_warns_and_says_how_many_were_left(bs):
    with pytest.warns(RuntimeWarning, match="not exhaustive") as by_function:
        stopped = bs.explore("deflate-vs-isolate", design="fixed", strategy="dfs", depth=2, schedules=50, progress=False)
    assert not stopped.exhausted and stopped.schedules_left >= 1
    with pytest.warns(RuntimeWarning, match="not exhaustive") as by_method:
        bs.preset("deflate-vs-isolate", "fixed").explore("dfs", schedules=50, depth=2, progress=False)
    # Either way the warning names the caller's line, not the package's own code.
    assert [Path(w.filename).name for w in [*by_function, *by_method]] == [Path(__file__).name] * 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        whole = bs.explore("scan-vs-migrate", design="fixed", strategy="dfs", depth=1, schedules=10_000, progress=False)
    assert whole.exhausted and whole.schedules_left == 0
    assert bs.explore("scan-vs-migrate", schedules=5, progress=False).schedules_left is None


@pytest.mark.parametrize("reduction", ["none", "sleep-sets"])
def test_dfs_on_two_host_cpus_is_the_serial_search(bs, reduction):
    def search(threads):
        return bs.explore("deflate-vs-migrate", design="legacy", strategy="dfs", depth=2, schedules=100_000, progress=False,
                          threads=threads, reduction=reduction)
    one, two = search(1), search(2)
    assert one.exhausted and one.failing > 0
    assert (two.schedules, two.exhausted, two.schedules_left, two.failing_by_kind, two.failures) == \
        (one.schedules, one.exhausted, one.schedules_left, one.failing_by_kind, one.failures)
    assert (two.reduction, two.pruned_runs, two.skipped_options) == (one.reduction, one.pruned_runs, one.skipped_options)
    assert two.first_failure.index == one.first_failure.index and two.first_failure.reports == one.first_failure.reports
    with pytest.raises(ValueError, match="threads"):
        bs.explore("deflate-vs-migrate", strategy="dfs", threads=0, progress=False)


def test_a_dfs_search_moves_its_progress_bar_while_it_runs(bs, monkeypatch):
    shown = []

    class Bar:
        def __init__(self, total, **kwargs):
            self.n, self.total = 0, total

        def update(self, k):
            self.n += k
            shown.append(self.n)

        def set_postfix(self, **kwargs):
            pass

        def close(self):
            pass

    monkeypatch.setattr(sys.modules["balloonscript.explore"], "_progress_bar", Bar)
    res = bs.explore("deflate-vs-migrate", design="fixed", strategy="dfs", depth=2, schedules=100_000)
    assert res.exhausted and shown[-1] == res.schedules
    assert len(shown) >= 2 and shown == sorted(shown), "the bar moved during the one engine call, only forward"


def test_random_on_two_host_cpus_in_growing_chunks_is_one_thread_in_fixed_chunks(bs):
    race = bs.preset("deflate-vs-isolate", "legacy", 4)
    one = race.explore("random", schedules=600, seed=4, progress=False, threads=1, chunk=50)
    two = race.explore("random", schedules=600, seed=4, progress=False, threads=2)
    assert 0 < one.failing < 600
    assert (two.schedules, two.failing_by_kind, two.failures) == (one.schedules, one.failing_by_kind, one.failures)
    assert two.first_failure.index == one.first_failure.index and two.first_failure.reports == one.first_failure.reports


@pytest.fixture(scope="module")
def client(dask_client):
    return dask_client


def same(a, b):
    return (a.schedules, a.failing_indices, a.failing_by_kind, a.failures) == (b.schedules, b.failing_indices, b.failing_by_kind, b.failures) \
        and a.first_failure.choices == b.first_failure.choices and a.first_failure.reports == b.first_failure.reports


def test_distributed_preset_equals_the_serial_run(bs, client):
    serial = bs.explore("deflate-vs-isolate", schedules=240, seed=3, chunk=40, progress=False)
    spread = bs.explore("deflate-vs-isolate", schedules=240, seed=3, chunk=40, progress=False, client=client)
    assert serial.failing > 0 and same(serial, spread)


def test_distributed_race_from_a_simulation_equals_the_serial_run(bs, client):
    sim = bs.Simulation(memory_mib=16, design="redesign", cpus=2, seed=4)
    sim.workload.anon(mib=1 / 256)
    sim.balloon.inflate(mib=4 / 256)
    lru = int((sim.page_map() == bs.PageKind.anon).nonzero()[0][0])
    race = sim.race(cpu0=[bs.op.deflate(pages=4)], cpu1=[bs.op.isolate(start=lru, then="migrate")])
    serial = race.explore(strategy="pct", schedules=240, seed=2, chunk=40, progress=False)
    spread = race.explore(strategy="pct", schedules=240, seed=2, chunk=40, progress=False, client=client)
    assert serial.failing > 0 and same(serial, spread)
