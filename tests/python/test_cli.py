"""python -m balloonscript: every command's text, JSON and CSV output; --help with defaults; errors as one line
on stderr with exit status 2, checked before anything runs."""
import io
import json
import os
import subprocess
import sys
import warnings

import pandas as pd
import pytest

from conftest import REPO, subprocess_env

GRID_JOB = """
experiment = "lru_lock_blocks"
[args]
memory_mib = 64
[grid]
design = ["legacy", "redesign"]
seed = [1, 2]
"""
RUN_JOB = {"experiment": "canonical", "args": {"design": "fixed", "memory_mib": 64}}


def run(*args, cwd=REPO):
    """python -m balloonscript in a fresh process."""
    return subprocess.run([sys.executable, "-m", "balloonscript", *args], capture_output=True, text=True,
                          env=subprocess_env(), cwd=cwd, timeout=300)


@pytest.fixture
def cli(bs, capsys):
    """The command line in this process: returns (exit status, stdout, stderr)."""
    from balloonscript.cli import main

    def call(*args):
        try:
            status = main([str(a) for a in args])
        except SystemExit as exit:   # argparse: --help, usage errors
            status = exit.code
        out = capsys.readouterr()
        return status, out.out, out.err
    return call


@pytest.fixture
def jobs(tmp_path):
    (tmp_path / "grid.toml").write_text(GRID_JOB)
    (tmp_path / "run.json").write_text(json.dumps(RUN_JOB))
    return tmp_path


def one_line_error(stderr: str, *words):
    lines = stderr.strip().splitlines()
    assert "Traceback" not in stderr and all(w in lines[0] for w in words), stderr
    assert len(lines) == 1, stderr


# --------------------------------------------------------------------------- text output, exit statuses

def test_scenarios_lists_the_presets():
    out = run("scenarios")
    assert out.returncode == 0
    assert out.stdout.split() == ["scan-vs-migrate", "migrate-twice", "isolate-without-lru-lock", "deflate-vs-isolate", "deflate-vs-migrate",
                                  "inflate-vs-compact", "newpage-after-unlock"]


def test_explore_fail_on_finding_exits_1_in_legacy_and_0_in_fixed(cli):
    legacy = cli("explore", "scan-vs-migrate", "--strategy", "dfs", "--depth", "1", "--quiet", "--fail-on-finding")
    fixed = cli("explore", "scan-vs-migrate", "--design", "fixed", "--strategy", "dfs", "--depth", "1", "--quiet", "--fail-on-finding")
    assert legacy[0] == 1 and "kasan: 1" in legacy[1] and "[kasan]" in legacy[1]
    assert fixed[0] == 0 and "0 of 25 schedules failed (every schedule within the bound)" in fixed[1]
    assert legacy[2] == fixed[2] == ""   # exhaustive: no warning


def test_explore_with_sleep_sets_finds_the_kasan_read_in_fewer_schedules_and_says_so_in_json(cli):
    status, out, _ = cli("explore", "scan-vs-migrate", "--strategy", "dfs", "--depth", "2", "--quiet", "--reduction", "sleep-sets", "--json")
    data = json.loads(out)
    assert status == 0 and data["reduction"] == "sleep-sets" and data["exhausted"]
    assert data["failing_by_kind"].keys() == {"kasan"} and data["schedules"] < 327


def test_dfs_stopped_before_its_bound_warns_loudly_on_stderr(cli):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        status, out, err = cli("explore", "scan-vs-migrate", "--strategy", "dfs", "--depth", "2", "--schedules", "5",
                               "--quiet", "--threads", "2")
    assert status == 0 and "0 of 5 schedules failed" in out
    assert err.startswith("WARNING: NOT EXHAUSTIVE") and "--schedules" in err and len(err.splitlines()) == 1
    # Only the command's line: not also the library's warning to a Python caller, which names schedules= and a source line.
    assert [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)] == []


def test_run_prints_one_column_per_line_and_sweep_a_table(cli, jobs):
    status, out, _ = cli("run", jobs / "run.json")
    assert status == 0 and out.splitlines()[0].split() == ["design", "fixed"]
    status, out, _ = cli("sweep", jobs / "grid.toml", "--quiet")
    assert status == 0 and out.splitlines()[0].split()[:2] == ["design", "seed"] and len(out.splitlines()) == 5


def test_help_shows_the_defaults(cli):
    for command, default in [("demo", "guest memory in MiB (default: 1024)"), ("sweep", "(default: 1)"),
                             ("explore", "how schedules are chosen (default: random)")]:
        status, out, _ = cli(command, "--help")
        assert status == 0 and default in " ".join(out.split())


# --------------------------------------------------------------------------- --json and --csv, every command

COMMANDS = {
    "scenarios": lambda jobs: ["scenarios"],
    "explore": lambda jobs: ["explore", "scan-vs-migrate", "--strategy", "dfs", "--depth", "1", "--quiet", "--trace"],
    "run": lambda jobs: ["run", jobs / "run.json"],
    "sweep": lambda jobs: ["sweep", jobs / "grid.toml", "--workers", "2", "--quiet"],
    "demo": lambda jobs: ["demo", "--memory-mib", "64", "--designs", "legacy", "redesign", "--out", jobs / "out"],
}


@pytest.mark.parametrize("command", COMMANDS)
def test_json_output_parses(cli, jobs, command):
    status, out, _ = cli(*COMMANDS[command](jobs), "--json")
    assert status == 0
    data = json.loads(out)
    if command == "scenarios":
        assert "deflate-vs-isolate" in data
    elif command == "explore":
        assert data["failing"] == 1 and data["exhausted"] and data["failing_by_kind"] == {"kasan": 1}
        assert data["first_failure"]["reports"][0]["kind"] == "kasan" and data["first_failure"]["trace"]
    elif command == "sweep":
        assert [(r["design"], r["seed"]) for r in data] == [("legacy", 1), ("legacy", 2), ("redesign", 1), ("redesign", 2)]
    elif command == "demo":
        assert [r["design"] for r in data] == ["legacy", "redesign"] and data[0]["findings_balloon_unmovable"] > 0
    else:
        assert len(data) == 1 and data[0]["design"] == "fixed"


@pytest.mark.parametrize("command", COMMANDS)
def test_csv_output_parses_with_pandas(cli, jobs, command):
    status, out, _ = cli(*COMMANDS[command](jobs), "--csv")
    assert status == 0
    df = pd.read_csv(io.StringIO(out))
    rows = {"scenarios": 7, "explore": 1, "run": 1, "sweep": 4, "demo": 2}[command]
    assert len(df) == rows, out
    if command == "sweep":
        assert list(df.columns[:2]) == ["design", "seed"]
        by_design = df.groupby("design")["balloon_migrated"].sum()
        assert by_design["legacy"] == 0 and by_design["redesign"] > 0   # defect 3
    if command == "explore":
        assert df.loc[0, "failing_kasan"] == 1 and df.loc[0, "first_failing_schedule"] >= 0


def test_a_reader_that_stops_early_ends_the_command_quietly_with_status_141():
    """``balloonscript scenarios | head -1`` once printed a BrokenPipeError as an error; the pipe here is closed
    before the command writes, so its first write finds no reader."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        out = subprocess.run([sys.executable, "-m", "balloonscript", "scenarios"], stdout=write_end,
                             stderr=subprocess.PIPE, text=True, env=subprocess_env(), cwd=REPO, timeout=300)
    finally:
        os.close(write_end)
    assert out.returncode == 141 and out.stderr == ""


# --------------------------------------------------------------------------- errors: one line, exit 2, before any work

def test_unknown_scenario_exits_2_naming_the_argument():
    out = run("explore", "no-such-race")
    assert out.returncode == 2
    one_line_error(out.stderr, "scenario", "deflate-vs-isolate")


def test_demo_with_a_guest_too_small_fails_at_once():
    out = run("demo", "--memory-mib", "5")
    assert out.returncode == 2 and out.stdout == ""
    one_line_error(out.stderr, "memory_mib", "16")


def test_demo_with_an_out_folder_it_cannot_create_fails_before_running(tmp_path):
    out = run("demo", "--out", "/proc/nope", cwd=tmp_path)
    assert out.returncode == 2 and out.stdout == ""
    one_line_error(out.stderr, "--out", "/proc/nope")


def test_a_wrong_job_file_exits_2_before_running(tmp_path):
    job = tmp_path / "job.json"
    job.write_text(json.dumps({"experiment": "canonical", "args": {"design": "legacy", "memory_mib": 64, "sed": 1}}))
    out = run("run", str(job))
    assert out.returncode == 2 and out.stdout == ""
    one_line_error(out.stderr, "sed", "seed")


@pytest.mark.parametrize("args, words", [
    (["demo", "--exiting", "1.5"], ["--exiting", "[0, 1]"]),
    (["demo", "--designs", "nope"], ["--designs", "legacy"]),
    (["explore", "scan-vs-migrate", "--schedules", "0"], ["--schedules", ">= 1"]),
    (["sweep", "job.toml", "--workers", "0"], ["--workers", ">= 1"]),
    (["run", "no-such-job.toml"], ["no-such-job.toml", "No such file"]),
    (["scenarios", "--json", "--csv"], ["--json", "--csv"]),
])
def test_wrong_arguments_exit_2_with_one_line(cli, args, words):
    status, out, err = cli(*args)
    assert status == 2 and out == ""
    one_line_error(err, *words)
