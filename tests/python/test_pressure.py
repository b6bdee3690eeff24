"""Memory pressure from Python: the host's target, sampled runs, swap, the pressure plots, bad input, and one
pressure timeline identical across processes."""
import hashlib
import subprocess
import sys

import numpy as np
import pytest

from conftest import subprocess_env

# A guest full of page cache and anon memory; the host asks for half of it; time runs in 20 ms samples. One line
# per design named on the command line, in that order: the design and the hash of its timeline.
TIMELINE = """
import hashlib, sys
import balloonscript as bs
for design in sys.argv[1:]:
    sim = bs.Simulation(memory_mib=128, design=design, seed=7, swap_mib=32)
    sim.workload.file(mib=50, dirty=0.2)
    sim.workload.anon(mib=60)
    sim.workload.slab(mib=6, reclaimable=True)
    sim.workload.touch(fraction=0.3, seed=3)
    sim.host.set_target(balloon_mib=64)
    sim.run(ms=1500, sample_ms=20, progress=False)
    print(design, hashlib.sha256(sim.history().to_csv().encode() + sim.dmesg().encode() + sim.zoneinfo().encode()).hexdigest())
"""
TIMELINE_DESIGNS = ["legacy", "fixed"]


@pytest.fixture(scope="module")
def timelines():
    """Two processes, side by side, each simulating every design of TIMELINE_DESIGNS, the second in the opposite
    order (so each design runs once first in a fresh process and once after another simulation): one start of
    Python and .NET per process instead of one per design. Returns [(returncode, {design: hash}, stderr)]."""
    procs = [subprocess.Popen([sys.executable, "-c", TIMELINE, *designs], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=subprocess_env())
             for designs in (TIMELINE_DESIGNS, TIMELINE_DESIGNS[::-1])]
    runs = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        runs.append((p.returncode, dict(line.split() for line in out.splitlines()), err))
    return runs


@pytest.mark.parametrize("design", TIMELINE_DESIGNS)
def test_a_pressure_timeline_is_the_same_in_two_processes(design, timelines):
    for returncode, _, stderr in timelines:
        assert returncode == 0, stderr
    first, second = (hashes[design] for _, hashes, _ in timelines)
    assert first == second
    assert len(first) == 64


def _pressured(bs, design="fixed", sample_ms=25, **options):
    sim = bs.Simulation(memory_mib=128, design=design, seed=1, **options)
    sim.workload.file(mib=60, dirty=0.1)
    sim.workload.anon(mib=55)
    sim.host.set_target(balloon_mib=64)
    sim.run(ms=1000, sample_ms=sample_ms, progress=False)
    return sim


def test_the_balloon_reaches_the_target_by_reclaiming_page_cache_over_time(bs):
    sim = _pressured(bs, sample_ms=2)   # 64 MiB at 1 us per page: some 20 ms of host time
    runs = sim.history().query("op == 'run'")
    assert sim.balloon.pages == 64 * bs.PAGES_PER_MIB == sim.host.target_pages
    assert runs["balloon_pages"].is_monotonic_increasing and runs["balloon_pages"].nunique() > 2, \
        "the balloon grows over several samples, not at once"
    gaps = runs["time_ms"].diff().dropna()
    assert (gaps.iloc[:-1] >= 2 - 1e-9).all() and (gaps < 2.5).all(), "a sample every 2 ms (work under way may end later)"
    assert sim.clock_ms >= 1000
    v = sim.vmstat()
    assert v["pgsteal_kswapd_dma32"] + v["pgsteal_direct_dma32"] > 0
    assert v["nr_file_pages"] < 60 * bs.PAGES_PER_MIB
    assert sim.reports() == []


def test_without_swap_anon_memory_stays_and_the_balloon_runs_out_of_puff(bs):
    sim = bs.Simulation(memory_mib=64, design="legacy", seed=1)
    sim.workload.anon(mib=50)
    anon = sim.vmstat()["nr_anon_pages"]
    sim.host.set_target(balloon_mib=32)
    sim.run(ms=1000)
    assert sim.balloon.out_of_puff >= 4
    assert sim.balloon.pages < 32 * bs.PAGES_PER_MIB
    assert sim.vmstat()["nr_anon_pages"] == anon
    assert "Out of puff!" in sim.dmesg()


def test_with_swap_anon_pages_go_out_and_come_back_intact(bs):
    sim = bs.Simulation(memory_mib=64, design="fixed", seed=1, swap_mib=64)
    sim.workload.anon(mib=50)
    sim.host.set_target(balloon_mib=32)
    sim.run(ms=1000)
    assert sim.vmstat()["pswpout"] > 0
    sim.host.set_target(balloon_mib=0)
    sim.run(ms=1000)
    sim.workload.touch(fraction=1.0, kind="anon")   # faults every swapped page back in
    assert sim.vmstat()["pswpin"] > 0
    assert sim.reports() == [], "the data-integrity check saw every page come back with its content"


@pytest.mark.parametrize("design, refault_line", [("fixed", "workingset_refault"), ("v6.1", "workingset_refault_file")])
def test_page_cache_the_balloon_evicted_is_read_back_as_refaults(bs, design, refault_line):
    sim = bs.Simulation(memory_mib=64, design=design, seed=1)
    sim.workload.file(mib=40)
    sim.balloon.inflate(mib=24)                     # leaves about 38 MiB: reclaim evicts the file's tail
    evicted = 40 * 256 - sim.vmstat()["nr_file_pages"]
    pgpgin, started = sim.vmstat()["pgpgin"], sim.clock_ms
    assert evicted > 0
    assert sim.workload.touch(fraction=1.0, kind="file") == 40 * 256
    vmstat = sim.vmstat()
    assert vmstat["workingset_refault"] == evicted, "every evicted page read back found its shadow"
    assert vmstat["pgpgin"] - pgpgin == 4 * vmstat["workingset_refault"], "each refault one 4 KiB page read"
    assert sim.clock_ms - started >= 2 * evicted, "the reader waited io_latency_ms (2 ms) for each"
    assert f"\n{refault_line} {vmstat['workingset_refault']}\n" in sim.proc_vmstat()
    assert sim.reports() == []


def test_proc_files_in_kernel_format(bs):
    sim = _pressured(bs, design="redesign")
    vmstat = sim.proc_vmstat().splitlines()
    assert all(len(line.split(" ")) == 2 for line in vmstat)
    assert {line.split(" ")[0] for line in vmstat} >= {"pgscan_kswapd_dma32", "allocstall", "balloon_inflate"}
    assert sim.zoneinfo().startswith("Node 0, zone      DMA")


def test_pressure_plots_draw_the_timeline(bs):
    import matplotlib.pyplot as plt
    from balloonscript import plots
    sim = _pressured(bs)
    ax = plots.plot_memory(sim)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[:6] == ["free", "anon", "file", "slab", "other", "balloon"] and "wmark_min" in labels
    top = ax.collections[-1].get_paths()[0].vertices[:, 1].max()   # the balloon, the top layer
    assert top == pytest.approx(128, rel=0.05), "the stack reaches the guest's memory"
    host = next(line for line in ax.get_lines() if line.get_label().startswith("host resident"))
    assert host.get_ydata()[-1] == pytest.approx(sim.host.resident_pages / bs.PAGES_PER_MIB), "the memory the host backs, last"
    ax2 = plots.plot_reclaim_activity(sim.history())
    drawn = [t.get_text() for t in ax2.get_legend().get_texts()]
    assert "pgscan_kswapd" in drawn and "pgsteal" in drawn
    plt.close("all")


@pytest.mark.parametrize("call, name", [
    (lambda s: s.run(ms=-1), "ms"),
    (lambda s: s.run(ms=10, sample_ms=0), "sample_ms"),
    (lambda s: s.run(ms=1000, sample_ms=1e-4), "sample_ms"),
    (lambda s: s.host.set_target(balloon_mib=-1), "balloon_mib"),
    (lambda s: s.host.set_target(balloon_mib=65), "balloon_mib"),
    (lambda s: s.host.set_target(balloon_mib=64), "balloon_mib"),   # the whole guest: QEMU refuses `balloon 0`
    (lambda s: s.host.set_target(balloon_mib="half"), "balloon_mib"),
])
def test_bad_pressure_calls_name_the_argument_and_change_nothing(bs, call, name):
    sim = bs.Simulation(memory_mib=64, seed=1)
    sim.workload.file(mib=20)
    before = (sim.clock_ms, len(sim.history()), sim.host.target_pages,
              hashlib.sha256(np.ascontiguousarray(sim.page_map())).hexdigest())
    with pytest.raises(ValueError, match=name):
        call(sim)
    assert (sim.clock_ms, len(sim.history()), sim.host.target_pages,
            hashlib.sha256(np.ascontiguousarray(sim.page_map())).hexdigest()) == before
    sim.host.set_target(balloon_mib=8)
    sim.run(ms=50)
    assert sim.balloon.pages == 8 * bs.PAGES_PER_MIB, "still usable"


@pytest.mark.parametrize("kwargs, name", [({"swap_mib": -1}, "swap_mib"), ({"hz": 200}, "hz"),
                                          ({"io_latency_ms": -1}, "io_latency_ms"),
                                          ({"host_us_per_page": -0.5}, "host_us_per_page"),
                                          ({"reclaim": 1}, "reclaim")])
def test_bad_pressure_options_name_the_option(bs, kwargs, name):
    with pytest.raises(ValueError, match=name):
        bs.Simulation(memory_mib=32, **kwargs)


def test_kswapd_run_nested_in_an_allocation_writes_all_swap_out_in_v61_and_sleeps_early_in_v316(bs, repo):
    """docs/model.md, "Simulated time": a 64 MiB guest with 32 MiB of swap given 50, 10, then 5 MiB of anonymous
    memory, 200 ms apart. 6.1's kswapd sleeps only on writeback it meets again in a node it flagged (a whole
    shrink_node pass), so it writes until swap is full and the last step OOM-kills; v3.16's flags the zone after one
    batch and sleeps in congestion_wait early, writing far less and killing nothing. The numbers are docs/model.md's."""
    written = {}
    for design in ("v6.1", "fixed"):
        sim = bs.Simulation(memory_mib=64, swap_mib=32, design=design, seed=1)
        kills = []
        for mib in (50, 10, 5):
            sim.workload.anon(mib=mib)
            kills.append(sim.vmstat()["oom_kill"])
            sim.run(200)
        written[design] = sim.vmstat()["pswpout"]
        assert kills == ([0, 0, 1] if design == "v6.1" else [0, 0, 0]), design
    assert written["v6.1"] == 32 * 256 - 1   # every slot (the first holds the swap header)
    assert written["fixed"] < written["v6.1"] / 2
    doc = " ".join((repo / "docs" / "model.md").read_text().split())
    assert f"fills all {written['v6.1']:,} slots" in doc and f"writes {written['fixed']:,} pages and kills nothing" in doc


@pytest.mark.parametrize("design", ["legacy", "v6.1"])
def test_processes_anon_rss_is_the_mms_count_which_trails_the_faults(bs, design):
    """SPLIT_RSS_COUNTING: of a process's 256 faults the mm has taken in 197 (folded at its 66th, 132nd and 198th fault,
    59 left in its task's count); its own munmap folds the rest in."""
    sim = bs.Simulation(memory_mib=64, design=design, seed=1)
    sim.workload.anon(mib=1)
    assert sim.processes().anon_rss[0] == 197
    sim.workload.free(fraction=0.25, pattern="interleave", kind="anon", seed=1)
    assert sim.processes().anon_rss[0] == 256 - 64


@pytest.mark.parametrize("design", ["fixed", "v6.1"])
def test_processes_count_their_minor_and_major_faults(bs, design):
    """task min_flt and maj_flt: a process's first-touch faults are minor; pushed out to swap and touched again, each
    fault that read its page from the disk is major (pgmajfault), the others (pages read ahead) minor."""
    sim = bs.Simulation(memory_mib=64, swap_mib=64, design=design, seed=1)
    sim.workload.anon(mib=24)
    assert sim.processes()[["min_flt", "maj_flt"]].values.tolist() == [[24 * 256, 0]]
    sim.workload.anon(mib=40)                              # pushes much of the first out to swap
    sim.workload.free(fraction=1.0, kind="anon")           # everything resident goes: room to come back
    before, majfault = sim.processes(), sim.vmstat()["pgmajfault"]
    swapped = sim.workload.touch(fraction=1.0, kind="anon")
    after = sim.processes()
    major = sim.vmstat()["pgmajfault"] - majfault
    assert 0 < major < swapped
    assert after.maj_flt.sum() - before.maj_flt.sum() == major
    assert after.min_flt.sum() - before.min_flt.sum() == swapped - major


@pytest.mark.parametrize("design", ["legacy", "v6.1"])
def test_processes_show_what_the_oom_killer_weighs_and_its_kill_line_prints(bs, design):
    """sim.processes(): each process's mm counters in pages. A process that freed a quarter of its pages (munmap: off
    total_vm, its page tables kept while part of each range is mapped) is killed by a bigger one; the kill line prints
    its total_vm and anon-rss (and 6.1 its pgtables) as the frame shows them the moment before."""
    sim = bs.Simulation(memory_mib=64, design=design, seed=1, reclaim=True)
    sim.workload.anon(mib=44)
    sim.workload.free(fraction=0.25, pattern="interleave", kind="anon", seed=1)
    before = sim.processes().iloc[0]
    assert (before.pid, before.comm, before.memdie, before.exited) == (1000, "anon", False, False)
    assert before.total_vm == before.anon_rss == 44 * 256 - 44 * 256 // 4
    assert (before.nr_ptes, before.pgtables) == (22, 24)   # 22 PTE tables, a PMD and a PUD: every 2 MiB still mapped

    got = sim.workload.anon(mib=30)   # runs out of memory while still smaller than the first

    procs = sim.processes()
    assert procs.min_flt.tolist() == [44 * 256, got] and procs.maj_flt.tolist() == [0, 0], "one minor fault a page got"
    assert list(procs.pid) == [1000, 1001] and procs.memdie.tolist() == [True, False] and procs.exited.tolist() == [True, False]
    assert procs.pgtables[0] == procs.nr_ptes[0] == 0, "exit_mmap freed its tables"
    kill = f"Killed process 1000 (anon) total-vm:{before.total_vm * 4}kB, anon-rss:{before.anon_rss * 4}kB, file-rss:0kB"
    assert kill + (f", shmem-rss:0kB, UID:0 pgtables:{before.pgtables * 4}kB" if design == "v6.1" else "") in sim.dmesg()


def test_psi_is_6_1s_proc_pressure_memory_and_counts_the_thrashing_a_big_balloon_causes(bs):
    """A 64 MiB v6.1 guest rereads a 40 MiB file; with a 24 MiB balloon each reread reads back pages of the workingset,
    a memory stall of io_latency_ms each (/proc/pressure/memory); without the balloon nothing stalls."""
    def rereads(balloon_mib):
        sim = bs.Simulation(memory_mib=64, design="v6.1", seed=1)
        sim.workload.file(mib=40)
        if balloon_mib:
            sim.balloon.inflate(mib=balloon_mib)
        for seed in range(4):
            sim.workload.touch(fraction=1.0, kind="file", pattern="random", seed=seed)
        return sim, sim.vmstat()["workingset_restore_file"]

    sim, restores = rereads(24)
    text = sim.proc_pressure_memory()
    pressure = sim.pressure()
    assert text.splitlines()[0] == ("some avg10={avg10:.2f} avg60={avg60:.2f} avg300={avg300:.2f} total={total}"
                                    .format(**pressure["some"]))
    assert restores > 300 and pressure["some"]["total"] >= restores * 2000   # 2 ms a read, in microseconds
    assert pressure["full"]["total"] == pressure["some"]["total"]             # the reader is the only task
    assert pressure["some"]["avg10"] > 5      # the averages take in the stall once every 2 s
    io = sim.pressure("io")                   # every read waited for, 2 ms each: the refaults, restored or not
    assert io["some"]["total"] > sim.vmstat()["workingset_refault"] * 1999 > pressure["some"]["total"]
    assert sim.proc_pressure_io().startswith("some avg10=")
    quiet, _ = rereads(0)
    assert quiet.pressure()["some"]["total"] == 0
    with pytest.raises(ValueError, match="resource must be one of"):
        quiet.pressure("irq")   # CONFIG_IRQ_TIME_ACCOUNTING's file is not modelled
    with pytest.raises(ValueError, match="resource must be a string"):
        quiet.pressure(5)   # checked as psi_trigger checks it


@pytest.mark.parametrize("design", ["legacy", "redesign", "fixed", "movable"])
def test_psi_is_refused_before_4_20_naming_the_version(bs, design):
    sim = bs.Simulation(memory_mib=16, design=design, seed=1)
    with pytest.raises(ValueError, match="4.20"):
        sim.pressure()
    with pytest.raises(ValueError, match="proc_pressure_io.*4.20"):
        sim.pressure("io")


@pytest.fixture(scope="module")
def pressure_curve():
    """pressure_under_balloon in v6.1 at four balloon sizes (128 MiB guest: 24 MiB of processes, a 64 MiB file reread
    30 % at a time), and in fixed (v3.16, no PSI) at one: {(design, balloon_mib): row}."""
    from balloonscript import experiments as ex
    runs = [("v6.1", b) for b in (0, 24, 48, 88)] + [("fixed", 48)]
    return {(d, b): ex.pressure_under_balloon(d, balloon_mib=b).iloc[0] for d, b in runs}


def test_pressure_under_balloon_grows_in_io_with_the_balloon_and_in_memory_only_while_refaults_are_restored(pressure_curve):
    rows = [pressure_curve["v6.1", b] for b in (0, 24, 48, 88)]
    assert [r["balloon_pages"] for r in rows] == [b * 256 for b in (0, 24, 48, 88)]
    none, some, most, beyond = rows
    assert none["workingset_refault"] == 0 and none["io_some_pct"] == none["memory_some_pct"] == 0
    # Each refault is a 2 ms read: I/O pressure grows with the balloon, to nearly all of the time.
    assert 0 < some["io_some_pct"] < most["io_some_pct"] < beyond["io_some_pct"] <= 100
    assert beyond["io_some_pct"] > 90 and beyond["workingset_refault"] > most["workingset_refault"] > some["workingset_refault"]
    for r in rows:   # one task, alone on its CPU while it waits: FULL is SOME; 4 KiB read per refault
        assert r["io_full_pct"] == r["io_some_pct"] and r["memory_full_pct"] == r["memory_some_pct"]
        assert r["pgpgin"] == 4 * r["workingset_refault"] and r["findings"] == 0
    # Memory pressure counts only the reads of workingset pages (6.1's workingset_restore_file): none after a small
    # balloon (what it evicted had never been activated), and none again once the file is far larger than what the
    # balloon leaves, when the refault distance exceeds the active list and refaults are no longer activated.
    assert some["memory_some_pct"] == 0 and some["workingset_restore_file"] == 0
    assert most["memory_some_pct"] > 5 and most["workingset_restore_file"] > 0
    assert beyond["memory_some_pct"] < most["memory_some_pct"] / 5
    assert beyond["workingset_activate"] < most["workingset_activate"] / 100


def test_pressure_under_balloon_counts_refaults_without_psi_before_4_20(pressure_curve):
    row, v61 = pressure_curve["fixed", 48], pressure_curve["v6.1", 48]
    assert np.isnan([row[c] for c in ("memory_some_pct", "memory_full_pct", "io_some_pct", "io_full_pct")]).all()
    assert row["workingset_refault"] > 0.9 * v61["workingset_refault"] and row["workingset_restore_file"] == 0


@pytest.mark.parametrize("kwargs, name", [({"rounds": 0}, "rounds"), ({"think_ms": -1}, "think_ms"),
                                          ({"balloon_mib": "big"}, "balloon_mib"), ({"balloon_mib": -1}, "balloon_mib"),
                                          ({"touch": 2}, "touch"), ({"anon_mib": -1}, "anon_mib"),
                                          ({"file_mib": "x"}, "file_mib"), ({"file_mib": 1000}, "file_mib")])
def test_pressure_under_balloon_bad_input_names_the_argument(kwargs, name):
    from balloonscript import experiments as ex
    with pytest.raises(ValueError, match=name):
        ex.pressure_under_balloon("v6.1", memory_mib=64, **{"anon_mib": 8, "file_mib": 16, **kwargs})


def test_pressure_under_balloon_inflates_what_the_guest_can_give():
    from balloonscript import experiments as ex
    row = ex.pressure_under_balloon("v6.1", memory_mib=64, anon_mib=8, file_mib=16, balloon_mib=1000, rounds=1).iloc[0]
    assert 0 < row["balloon_pages"] < 64 * 256 and row["findings"] == 0


def test_a_psi_trigger_fires_on_the_thrashing_rereads_at_most_once_a_window_and_polls_as_the_file_does(bs):
    """A trigger of lmkd's kind ("some"/"full" stall in a 1 s window) with the values of the kernel documentation's own
    example (Documentation/accounting/psi.rst), "some 150000 1000000" on /proc/pressure/memory: 150 ms of memory stall
    within a second.
    The 64 MiB v6.1 guest's rereads under a 24 MiB balloon stall about 0.8 s a reread from the second on."""
    sim = bs.Simulation(memory_mib=64, design="v6.1", seed=1)
    sim.workload.file(mib=40)
    sim.balloon.inflate(mib=24)
    sim.run(1000)   # an event comes a window after the last, the first a window after boot (last_event_time 0)
    memory = sim.psi_trigger("memory", "some 150000 1000000")
    io = sim.psi_trigger("io", "full 500000 1000000")
    assert repr(memory) == "PsiTrigger('memory', 'some 150000 1000000')" and not memory.poll() and memory.events_ms == []
    polls, ends = [], []
    for seed in range(4):
        sim.workload.touch(fraction=1.0, kind="file", pattern="random", seed=seed)
        polls.append((memory.poll(), io.poll()))
        ends.append(sim.clock_ms)
    # The first reread's refaults were not in the workingset yet: I/O pressure only; the second's stall memory too.
    assert polls[:2] == [(False, True), (True, True)]
    events = memory.events_ms
    assert ends[0] < events[0] < ends[1] and len(events) >= 2 and events[-1] <= sim.clock_ms, (events, ends)
    assert all(b - a >= 1000 for a, b in zip(events, events[1:])), events   # at most one a window
    assert io.events_ms[0] < ends[0]
    memory.close()
    with pytest.raises(ValueError, match="no open trigger"):
        memory.poll()


@pytest.mark.parametrize("resource, trigger, name", [
    ("memory", "some 100 499999", "window_us must be in \\[500000, 10000000\\]"),
    ("memory", "some 0 500000", "threshold_us must be in \\[1, 500000\\]"),
    ("io", "most 1 500000", "trigger"), ("irq", "some 1 500000", "resource"), ("memory", 5, "trigger")])
def test_bad_psi_triggers_name_the_argument_and_the_range(bs, resource, trigger, name):
    sim = bs.Simulation(memory_mib=16, design="v6.1", seed=1)
    with pytest.raises(ValueError, match=name):
        sim.psi_trigger(resource, trigger)
    assert sim.psi_trigger("memory", "some 1 500000").events_ms == []   # still usable
    with pytest.raises(ValueError, match="4.20"):
        bs.Simulation(memory_mib=16, design="legacy", seed=1).psi_trigger("memory", "some 1 500000")
