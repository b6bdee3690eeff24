"""balloonscript.jobs: job files in JSON or TOML, checked whole before anything runs."""
import json
import re

import pytest

from balloonscript import DESIGNS


@pytest.fixture(scope="module")
def jobs(bs):
    from balloonscript import jobs
    return jobs


def write(tmp_path, data, name="job.json"):
    path = tmp_path / name
    path.write_text(json.dumps(data) if name.endswith(".json") else data)
    return path


def test_toml_and_json_make_the_same_job(jobs, tmp_path):
    toml = write(tmp_path, 'experiment = "canonical"\n[args]\nmemory_mib = 64\n[grid]\ndesign = ["legacy", "fixed"]\n',
                 "job.toml")
    as_json = write(tmp_path, {"experiment": "canonical", "args": {"memory_mib": 64}, "grid": {"design": ["legacy", "fixed"]}})
    job = jobs.load(toml, grid=True)
    assert job == jobs.load(as_json, grid=True)
    assert job == jobs.Job("canonical", {"memory_mib": 64}, {"design": ["legacy", "fixed"]})


def test_a_run_is_the_experiment_with_its_arguments_first(jobs, tmp_path):
    from balloonscript import experiments as ex
    job = jobs.load(write(tmp_path, {"experiment": "lru_lock_blocks", "args": {"design": "redesign", "memory_mib": 64}}),
                    grid=False)
    df = job.run()
    assert list(df.columns[:2]) == ["design", "memory_mib"]
    assert df.drop(columns=["design", "memory_mib"]).equals(ex.lru_lock_blocks("redesign", memory_mib=64))


GOOD = {"experiment": "canonical", "args": {"memory_mib": 64}, "grid": {"design": ["legacy"]}}


@pytest.mark.parametrize("data, grid, message", [
    ([1, 2], True, "must hold an object"),
    ({**GOOD, "seeds": [1]}, True, "unknown key 'seeds' (allowed: experiment, args, grid)"),
    ({**GOOD, "experiment": "compare"}, True, "experiment must be one of compaction_passes, lru_lock_blocks, canonical"),
    ({"grid": GOOD["grid"]}, True, "experiment must be one of"),
    ({**GOOD, "args": [64]}, True, "args must be a table"),
    (GOOD, False, "a grid is for `sweep`"),
    ({"experiment": "canonical", "args": {"design": "legacy"}}, True, "`sweep` needs a grid"),
    ({**GOOD, "grid": {}}, True, "grid must name at least one parameter"),
    ({**GOOD, "grid": {"design": "legacy"}}, True, "grid['design'] must be a non-empty list"),
    ({**GOOD, "grid": {"design": []}}, True, "grid['design'] must be a non-empty list"),
    ({**GOOD, "grid": {"design": ["legacy"], "memory_mib": [64]}}, True, "memory_mib is in both args and grid"),
    ({**GOOD, "args": {"memory_mb": 64}}, True, "canonical has no parameter 'memory_mb' (it has design, memory_mib, seed"),
    ({"experiment": "canonical", "args": {"memory_mib": 64}}, False, "canonical needs 'design'"),
    ({**GOOD, "grid": {"design": ["legacy", "new"]}}, True, f"design must be one of {', '.join(DESIGNS)}, got 'new'"),
    ({**GOOD, "args": {"memory_mib": 8}}, True, "memory_mib must be in [16,"),
])
def test_a_wrong_job_is_a_valueerror_saying_what(jobs, tmp_path, data, grid, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        jobs.load(write(tmp_path, data), grid=grid)


@pytest.mark.parametrize("name, text, message", [
    ("job.yaml", "experiment: canonical", "must end in .json or .toml"),
    ("job.toml", "experiment = ", "not valid TOML"),
    ("job.json", "{", "not valid JSON"),
])
def test_an_unreadable_job_file_is_a_valueerror(jobs, tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ValueError, match=re.escape(message)):
        jobs.load(path, grid=False)
