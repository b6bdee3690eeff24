"""python -m balloonscript: scenarios, explore (exit codes for CI-style use), errors."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(*args):
    env = dict(os.environ, PYTHONPATH=str(ROOT / "python"))
    return subprocess.run([sys.executable, "-m", "balloonscript", *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)


def test_scenarios_lists_the_presets():
    out = run("scenarios")
    assert out.returncode == 0
    assert out.stdout.split() == ["scan-vs-migrate", "migrate-twice", "isolate-without-lru-lock", "deflate-vs-isolate", "deflate-vs-migrate",
                                  "inflate-vs-compact", "newpage-after-unlock"]


def test_explore_fail_on_finding_exits_1_in_legacy_and_0_in_fixed():
    legacy = run("explore", "scan-vs-migrate", "--strategy", "dfs", "--depth", "1", "--quiet", "--fail-on-finding")
    fixed = run("explore", "scan-vs-migrate", "--design", "fixed", "--strategy", "dfs", "--depth", "1", "--quiet", "--fail-on-finding")
    assert legacy.returncode == 1 and "kasan: 1" in legacy.stdout and "[kasan]" in legacy.stdout
    assert fixed.returncode == 0 and "0 of 25 schedules failed (every schedule within the bound)" in fixed.stdout


def test_unknown_scenario_exits_2_naming_the_argument():
    out = run("explore", "no-such-race")
    assert out.returncode == 2
    assert "scenario must be one of" in out.stderr
