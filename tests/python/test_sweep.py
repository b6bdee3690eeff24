"""balloonscript.sweep: grid order, parameters as columns, the same frame serially and in spawned processes."""
import os

import pytest


def test_grid_points_is_the_product_in_key_order(bs):
    from balloonscript.sweep import grid_points
    assert grid_points({"design": ["legacy", "fixed"], "seed": [1, 2]}) == [
        {"design": "legacy", "seed": 1}, {"design": "legacy", "seed": 2},
        {"design": "fixed", "seed": 1}, {"design": "fixed", "seed": 2}]
    assert grid_points([{"a": 1}, {"a": 2}]) == [{"a": 1}, {"a": 2}]


@pytest.mark.parametrize("grid, name", [({}, "grid"), ({"seed": []}, "grid['seed']"), ([], "grid")])
def test_empty_grid_is_a_valueerror_naming_it(bs, grid, name):
    from balloonscript.sweep import sweep
    from balloonscript import experiments as ex
    with pytest.raises(ValueError, match=__import__("re").escape(name)):
        sweep(ex.lru_lock_blocks, grid, progress=False)


def test_workers_must_be_positive(bs):
    from balloonscript.sweep import sweep
    from balloonscript import experiments as ex
    with pytest.raises(ValueError, match="workers"):
        sweep(ex.lru_lock_blocks, {"design": ["legacy"]}, workers=0, progress=False)


def test_parallel_sweep_in_spawned_processes_equals_the_serial_one(bs):
    from balloonscript.sweep import sweep
    from balloonscript import experiments as ex
    grid = {"design": ["legacy", "redesign"], "seed": [1, 2]}
    serial = sweep(ex.lru_lock_blocks, grid, workers=1, progress=False, memory_mib=64)
    parallel = sweep(ex.lru_lock_blocks, grid, workers=2, progress=False, memory_mib=64)
    assert list(serial.columns[:2]) == ["design", "seed"]
    assert list(serial["design"]) == ["legacy", "legacy", "redesign", "redesign"]
    assert serial.equals(parallel)
    # defect 3 in the sweep: legacy migrates no balloon page in these guests, redesign does
    by_design = serial.groupby("design")["balloon_migrated"].sum()
    assert by_design["legacy"] == 0 and by_design["redesign"] > 0


GRID = {"design": ["legacy", "redesign"], "seed": [1, 2]}


@pytest.fixture(scope="module")
def serial(bs):
    from balloonscript.sweep import sweep
    from balloonscript import experiments as ex
    return sweep(ex.lru_lock_blocks, GRID, progress=False, memory_mib=64)


def runs_lru_lock_blocks(ex, offset):
    """A closure (by value only): lru_lock_blocks with the seed shifted by ``offset``."""
    return lambda design, seed, memory_mib: ex.lru_lock_blocks(design, memory_mib=memory_mib, seed=seed + offset)


def pid(i):
    import os
    import time
    time.sleep(0.3)   # long enough that both workers take a run
    return {"pid": os.getpid()}


def test_importable_by_name_only_for_module_level_functions_outside_main(bs):
    from balloonscript import experiments as ex
    from balloonscript.sweep import ByValue, importable_by_name, portable
    assert importable_by_name(ex.canonical) and importable_by_name(pid)
    assert portable(ex.canonical) is ex.canonical
    closure = runs_lru_lock_blocks(ex, 0)
    assert not importable_by_name(closure) and not importable_by_name(lambda: 0)
    scope = {"__name__": "__main__"}
    exec("def main_fn(): pass", scope)
    assert not importable_by_name(scope["main_fn"])
    assert isinstance(portable(closure), ByValue) and portable(closure)("legacy", 1, 64).equals(closure("legacy", 1, 64))


def test_a_closure_runs_in_the_worker_pool_by_value(bs, serial):
    from balloonscript.sweep import sweep
    from balloonscript import experiments as ex
    shifted = sweep(runs_lru_lock_blocks(ex, 0), GRID, workers=2, progress=False, memory_mib=64)
    assert shifted.equals(serial)


def test_the_worker_pool_stays_up_across_sweeps_until_shutdown(bs):
    from balloonscript import sweep as sw
    first = set(sw.sweep(pid, {"i": range(4)}, workers=2, progress=False)["pid"])
    second = set(sw.sweep(pid, {"i": range(4)}, workers=2, progress=False)["pid"])
    assert len(first) == 2 and second == first
    sw.shutdown()
    third = set(sw.sweep(pid, {"i": range(4)}, workers=2, progress=False)["pid"])
    assert not third & first


def test_an_error_in_a_run_reaches_the_caller_and_the_pool_stays_usable(bs, serial):
    from balloonscript.sweep import sweep
    from balloonscript import experiments as ex
    with pytest.raises(ValueError, match="design"):
        sweep(ex.lru_lock_blocks, {"design": ["legacy", "no-such-design"]}, workers=2, progress=False, memory_mib=64)
    assert sweep(ex.lru_lock_blocks, GRID, workers=2, progress=False, memory_mib=64).equals(serial)


MAIN_SCRIPT = '''
from balloonscript import experiments as ex
from balloonscript.sweep import sweep

if __name__ == "__main__":
    def my_run(design, seed, memory_mib):   # only in this process's __main__: workers cannot import it by name
        return ex.lru_lock_blocks(design, memory_mib=memory_mib, seed=seed)

    grid = {"design": ["legacy", "redesign"], "seed": [1, 2]}
    parallel = sweep(my_run, grid, workers=2, progress=False, memory_mib=64)
    assert parallel.equals(sweep(my_run, grid, progress=False, memory_mib=64))
    print(len(parallel), "runs")
'''


def test_a_function_defined_in_main_of_a_script_runs_with_workers(tmp_path):
    import subprocess
    import sys
    from conftest import subprocess_env
    script = tmp_path / "my_sweep.py"
    script.write_text(MAIN_SCRIPT)
    out = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=subprocess_env(), capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "4 runs"


@pytest.mark.filterwarnings("ignore::DeprecationWarning")   # tornado's make_current, inside distributed
def test_dask_cluster_of_two_processes_runs_a_closure_and_matches_serial(bs, serial, dask_client):
    from balloonscript.sweep import sweep
    from balloonscript import experiments as ex
    offset = 0

    def shifted(design, seed, memory_mib):   # defined here: it travels by cloudpickle
        return ex.lru_lock_blocks(design, memory_mib=memory_mib, seed=seed + offset)

    pids = set(dask_client.run(os.getpid).values())   # the session's cluster: two worker processes, not this one
    assert len(pids) == 2 and os.getpid() not in pids and set(dask_client.nthreads().values()) == {1}
    on_dask = sweep(shifted, GRID, client=dask_client, progress=False, memory_mib=64)
    by_name = sweep(ex.lru_lock_blocks, GRID, client=dask_client, progress=False, memory_mib=64)
    assert on_dask.equals(serial) and by_name.equals(serial)
