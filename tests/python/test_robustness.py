"""Issue 7: no input kills the process, no corrupted state hangs a sanitizer, Ctrl-C works, threads are safe.

Each test names the item of the issue it pins. The list walks that hung (item 3) are pinned by the NUnit tests
of CorruptListWalkTests; the fuzzer and the soak have files of their own (test_fuzz.py, test_soak.py).
"""
import _thread
import fractions
import signal
import re
import subprocess
import sys
import threading
import time

import pytest

from conftest import REPO, subprocess_env

SURROGATE = "\ud800"


def state(sim):
    """What a refused call must leave as it was."""
    return (sim.page_map().tobytes(), sim.vmstat(), sim.balloon.pages, sim.host.ballooned_pages, len(sim.history()),
            sim.reports())


@pytest.fixture
def sim(bs):
    s = bs.Simulation(memory_mib=32, design="fixed", seed=1)
    s.workload.anon(mib=8)
    s.balloon.inflate(mib=2)
    return s


def refused(sim, name, fn):
    """``fn()`` raises ValueError naming ``name`` and leaves ``sim`` unchanged."""
    before = state(sim)
    with pytest.raises(ValueError, match=name):
        fn()
    assert state(sim) == before


# ------------------------------------------------------------------ item 1: a lone surrogate in a string argument

def test_item1_lone_surrogate_in_the_design_of_a_simulation(bs):
    with pytest.raises(ValueError, match="design must be valid text"):
        bs.Simulation(memory_mib=64, design=SURROGATE)


def test_item1_lone_surrogate_in_the_free_pattern(sim):
    refused(sim, "pattern", lambda: sim.workload.free(fraction=0.5, pattern="inter" + SURROGATE))


@pytest.mark.parametrize("kwargs, name", [
    ({"scenario": SURROGATE}, "scenario"),
    ({"design": "fixed" + SURROGATE}, "design"),
    ({"strategy": "\udcff"}, "strategy"),
])
def test_item1_lone_surrogate_in_explore(bs, kwargs, name):
    args = {"scenario": "scan-vs-migrate", "design": "fixed", "strategy": "random", **kwargs}
    with pytest.raises(ValueError, match=f"{name} must be valid text"):
        bs.explore(args.pop("scenario"), schedules=1, progress=False, **args)


@pytest.mark.parametrize("kwargs, name", [({"scenario": SURROGATE}, "scenario"), ({"design": SURROGATE}, "design")])
def test_item1_lone_surrogate_in_run_scenario(bs, kwargs, name):
    args = {"scenario": "migrate-twice", "design": "fixed", **kwargs}
    with pytest.raises(ValueError, match=f"{name} must be valid text"):
        bs.run_scenario(args.pop("scenario"), **args)


@pytest.mark.parametrize("argv, name", [
    ([b"explore", b"scan\xff", b"--design", b"fixed"], "scenario"),
    ([b"explore", b"scan-vs-migrate", b"--design", b"fixed\xff"], "design"),
    ([b"explore", b"scan-vs-migrate", b"--strategy", b"\xffrandom"], "strategy"),
])
def test_item1_non_utf8_bytes_on_the_command_line_are_a_usage_error(argv, name):
    out = subprocess.run([sys.executable.encode(), b"-m", b"balloonscript", *argv], capture_output=True, text=True,
                         env=subprocess_env(), cwd=REPO, timeout=300)
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in out.stderr, out.stderr
    # argparse refuses a value outside its choices before the engine sees it; a free-text argument is refused by name
    assert re.search(rf"error: (argument (--)?{name}|{name}).*(invalid choice|must be valid text)", lines[0]), lines[0]


# ------------------------------------------------------------------ item 2: numbers too big for a float

@pytest.mark.parametrize("label, call, name", [
    ("anon 10**400", lambda s: s.workload.anon(mib=10**400), "mib"),
    ("file -10**400", lambda s: s.workload.file(mib=-10**400), "mib"),
    ("inflate Fraction", lambda s: s.balloon.inflate(mib=fractions.Fraction(10**400, 3)), "mib"),
    ("deflate Fraction", lambda s: s.balloon.deflate(mib=fractions.Fraction(-10**400, 7)), "mib"),
    ("free fraction 10**400", lambda s: s.workload.free(fraction=10**400), "fraction"),
    ("free fraction Fraction", lambda s: s.workload.free(fraction=fractions.Fraction(10**400, 3)), "fraction"),
    ("free seed 10**400", lambda s: s.workload.free(fraction=0.5, seed=10**400), "seed"),
    ("allocate count 10**400", lambda s: s.allocate(order=9, count=10**400), "count"),
])
def test_item2_numbers_too_big_for_a_float_are_a_value_error(sim, label, call, name):
    refused(sim, name, lambda: call(sim))


# ------------------------------------------------------------------ item 4: Ctrl-C

LONG_EXPLORATION = """
import sys, balloonscript as bs
print("exploring", flush=True)
bs.explore("deflate-vs-migrate", "legacy", "dfs", schedules=98450, depth=3, progress=False)
print("finished", flush=True)
"""


def test_item4_ctrl_c_stops_a_long_exploration_within_two_seconds():
    child = subprocess.Popen([sys.executable, "-c", LONG_EXPLORATION], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env=subprocess_env(), cwd=REPO)
    try:
        assert child.stdout.readline().strip() == "exploring"
        time.sleep(1.0)
        sent = time.monotonic()
        child.send_signal(signal.SIGINT)
        # The traceback is printed when KeyboardInterrupt reaches the top; unloading .NET at exit takes its own time.
        stopped = next((time.monotonic() for line in child.stderr if "KeyboardInterrupt" in line), None)
        child.wait(timeout=60)
    finally:
        child.kill()
        child.wait()
    assert stopped is not None, "the exploration ended with KeyboardInterrupt"
    assert stopped - sent < 2.0
    assert child.returncode == -signal.SIGINT   # Python's exit for an uncaught KeyboardInterrupt
    assert "finished" not in child.stdout.read()


@pytest.fixture(scope="module")
def fragmented(bs):
    """An 8 GiB guest whose compact_memory takes most of a second, built once: each test below forks it (a copy of its
    arrays, not a second build) and works on a guest of its own."""
    sim = bs.Simulation(memory_mib=8192, design="fixed", seed=1)
    sim.workload.anon(mib=5000)
    sim.workload.file(mib=1500)
    sim.workload.free(fraction=0.8, pattern="random", seed=2)
    sim.balloon.inflate(mib=800)
    return sim


def interrupted(call, after=0.05):
    """Run ``call()`` with Ctrl-C arriving ``after`` seconds in; True if the call raised KeyboardInterrupt. Should the
    call end first (a machine too busy to run the timer in time), the interrupt is taken here, not by pytest."""
    timer = threading.Timer(after, _thread.interrupt_main)
    timer.start()
    try:
        call()
    except KeyboardInterrupt:
        return True
    try:
        timer.join()
        time.sleep(1)
    except KeyboardInterrupt:
        pass
    return False


def test_item4_simulation_is_usable_and_consistent_after_an_interrupted_compact(bs, fragmented):
    sim = fragmented.fork()
    started = time.monotonic()
    assert interrupted(sim.compact), "compact() was stopped by Ctrl-C (it takes most of a second uninterrupted)"
    assert time.monotonic() - started < 0.05 + 0.5
    assert sim.reports() == [], "the page-state checks after the interrupted compaction found nothing"
    assert sim.history()["op"].tolist()[-1] == "compact"
    interrupted_at = sim.vmstat()

    r = sim.compact()   # the flag was cleared: this one runs to the end
    assert all(outcome == "COMPACT_COMPLETE" for outcome in r.zones.values())
    vm = sim.vmstat()
    assert vm["compact_migrate_scanned"] > interrupted_at["compact_migrate_scanned"]
    assert int((sim.free_blocks() << range(bs.MAX_ORDER)).sum()) == vm["nr_free_pages"]
    assert sim.balloon.pages == sim.host.ballooned_pages
    assert sim.reports() == []


def test_item4_calls_from_other_threads_run_directly_and_work(bs):
    results = []
    worker = threading.Thread(target=lambda: results.append(bs.Simulation(memory_mib=16, design="fixed").compact()))
    worker.start()
    worker.join()
    assert results and results[0].failed == 0


# ------------------------------------------------------------------ item 5: threads

def test_item5_one_simulation_shared_by_threads_is_serialised_and_stays_consistent(bs):
    sim = bs.Simulation(memory_mib=64, design="fixed", cpus=2, seed=3)
    errors = []

    def worker(seed):
        try:
            for i in range(12):
                sim.workload.anon(mib=1.5)
                sim.balloon.inflate(mib=1)
                sim.workload.free(fraction=0.3, pattern="random", seed=seed * 100 + i)
                sim.compact()
                sim.balloon.deflate(mib=0.5)
                sim.allocate(order=3, count=2)
                sim.vmstat(), sim.page_map(), sim.reports()
        except ValueError:   # a populate asking for more than another thread left: allowed
            pass
        except BaseException as e:   # noqa: BLE001 - anything else is the bug
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sim.reports() == [], "fixed reports nothing, whatever thread called"
    assert sim.balloon.pages == sim.host.ballooned_pages


def test_item5_a_reader_waits_for_the_running_call_of_its_simulation(fragmented):
    sim = fragmented.fork()
    compacting = threading.Thread(target=sim.compact)
    compacting.start()
    time.sleep(0.02)
    seen = sim.vmstat()   # serialised: taken before or after the compaction, never half-way
    compacting.join()
    assert seen == sim.vmstat() or seen["compact_migrate_scanned"] == 0


def test_item5_different_simulations_run_in_parallel(bs, fragmented):
    big = fragmented.fork()
    small = bs.Simulation(memory_mib=16, design="legacy", seed=1)
    done = threading.Event()
    compacting = threading.Thread(target=lambda: (big.compact(), done.set()))
    compacting.start()
    time.sleep(0.02)
    small.workload.anon(mib=2)
    small.compact()
    assert not done.is_set(), "the small simulation did not wait for the big one's compaction"
    compacting.join()
    assert big.reports() == [] and small.reports() == []


# ------------------------------------------------------------------ a guest too large for this machine

@pytest.fixture
def available_memory():
    """Fake the memory the engine sees as available (its internal hook), restored afterwards."""
    import clr
    from balloonscript._convert import System, bindings
    flags = System.Reflection.BindingFlags
    # The engine assembly as the bindings loaded it (a fresh import could load a second copy).
    engine = clr.GetClrType(bindings.PySimulation).GetField("_sim", flags.Instance | flags.NonPublic).FieldType.Assembly
    budget = engine.GetType("BalloonScript.Engine.GuestMemoryBudget")
    hook = budget.GetProperty("FakeAvailableBytes", flags.Static | flags.NonPublic)
    per_page = int(budget.GetField("BytesPerPage", flags.Static | flags.Public).GetValue(None))
    yield lambda mib: hook.SetValue(None, System.Int64(mib << 20)), per_page
    hook.SetValue(None, None)


def test_a_guest_larger_than_the_memory_available_is_refused_naming_memory_mib(bs, available_memory):
    set_available, per_page = available_memory
    set_available(10)
    with pytest.raises(ValueError) as info:
        bs.Simulation(memory_mib=4096, design="fixed")
    needed = (4096 * 256 * per_page + (1 << 20) - 1) >> 20
    assert str(info.value).startswith("memory_mib: a 4096 MiB guest needs about ")
    assert f"needs about {needed} MiB" in str(info.value) and "has 10 MiB available" in str(info.value)
    assert bs.Simulation(memory_mib=16, design="fixed").vmstat()["nr_free_pages"] > 0, "a guest that fits is built"
