"""bench/kernel_anchor.py: this machine's own kernel faulting in, freeing and migrating pages, per page."""
import importlib.util
import itertools
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("kernel_anchor", REPO / "bench" / "kernel_anchor.py")
kernel_anchor = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(kernel_anchor)

SMALLEST = 1 / 16   # 64 MiB


def test_faults_and_frees_are_timed_per_page_and_counted_by_the_kernel():
    m = kernel_anchor.measure(SMALLEST, compact=False)
    assert m["pages"] == 64 * 256
    # Both populates fault every page in (pgfault is the whole machine's: other processes only add to it).
    assert m["faults_counted"] >= 2 * m["pages"]
    for key in ("fault_first", "fault", "free", "call"):
        assert 0 < m[key] < 1e-3, key   # per page: more than nothing, less than a millisecond
    assert "migrated" not in m


def test_compaction_is_its_wall_time_over_the_pages_vmstat_says_it_migrated(monkeypatch, tmp_path):
    sysctl = tmp_path / "compact_memory"
    sysctl.write_text("")
    ticks = itertools.count()

    def vmstat():   # every reading 1,000 pages and 3,000 scanned further on, pgfault too
        n = next(ticks)
        return {"pgfault": 10**9 + n * 10**6, "pgmigrate_success": 1000 * n, "compact_migrate_scanned": 3000 * n,
                "compact_free_scanned": 2000 * n}

    monkeypatch.setattr(kernel_anchor, "COMPACT_MEMORY", str(sysctl))
    monkeypatch.setattr(kernel_anchor, "can_compact", lambda: True)
    monkeypatch.setattr(kernel_anchor, "vmstat", vmstat)
    m = kernel_anchor.measure(SMALLEST, compact=True)
    assert sysctl.read_text() == "1"
    assert (m["migrated"], m["compact_migrate_scanned"], m["compact_free_scanned"]) == (1000, 3000, 2000)
    assert m["migrate"] == pytest.approx(m["compact_wall"] / 1000)
    assert "1,000 pages migrated" in kernel_anchor.describe(m)


def test_compacting_without_the_right_to_is_an_error_that_says_what_to_do(monkeypatch):
    monkeypatch.setattr(kernel_anchor, "can_compact", lambda: False)
    with pytest.raises(PermissionError, match="--no-compact"):
        kernel_anchor.measure(SMALLEST, compact=True)


@pytest.mark.parametrize("gib", [0.01, 10**6, float("inf"), float("nan")])
def test_a_size_out_of_range_is_a_usage_error_naming_gib_and_its_range(gib):
    with pytest.raises(ValueError, match=r"gib must be between 0\.0625 and [0-9.]+ \(half of MemAvailable\)"):
        kernel_anchor.check_size(gib)
    out = subprocess.run([sys.executable, str(REPO / "bench" / "kernel_anchor.py"), "--gib", str(gib), "--no-compact"],
                         capture_output=True, text=True)
    assert out.returncode == 2 and "gib must be between" in out.stderr
