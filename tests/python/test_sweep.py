"""balloonscript.sweep: grid order, parameters as columns, the same frame serially and in spawned processes."""
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
