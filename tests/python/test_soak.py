"""A short run of the soak (tests/soak.py; ``make soak`` runs the long one): random operations on every design and
every scenario explored under every design find nothing the designs are not documented to have."""
import importlib.util

import numpy as np
import pytest

from conftest import REPO


@pytest.fixture(scope="module")
def soak():
    spec = importlib.util.spec_from_file_location("soak", REPO / "tests" / "soak.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_short_soak_finds_nothing_unexpected(soak, capsys):
    rc = soak.main(["--ops", "3000", "--schedules", "30", "--seed", "7"])

    out = capsys.readouterr().out
    assert rc == 0, out
    assert "soak: PASS" in out
    assert "3,000 ops in" in out and "ops/s" in out and "schedules at" in out


class Report:
    def __init__(self, kind, where="compact_zone"):
        self.kind, self.trace = kind, ("compaction", where)


@pytest.mark.parametrize("design, scenario, reports, allowed", [
    ("legacy", "scan-vs-migrate", [Report("kasan")], True),
    ("redesign", "deflate-vs-isolate", [Report("list_corruption", "balloon_page_dequeue"), Report("list_corruption")], True),
    ("redesign", "deflate-vs-isolate", [Report("list_corruption", "balloon_page_dequeue"), Report("page_leak")], False),
    ("redesign", "deflate-vs-migrate", [Report("bad_page", "release_pages_by_pfn"), Report("accounting")], True),
    ("redesign", "deflate-vs-migrate", [Report("vm_bug", "unmap_and_move"), Report("page_leak")], True),
    ("redesign", "deflate-vs-migrate", [Report("bad_page", "virtballoon_migratepage")], True),
    ("redesign", "deflate-vs-migrate", [Report("list_corruption", "balloon_page_dequeue"), Report("page_leak")], True),
    ("redesign", "deflate-vs-migrate", [Report("vm_bug", "balloon_page_putback")], False),
    ("redesign", "deflate-vs-migrate", [Report("page_leak")], False),
    ("redesign", "scan-vs-migrate", [Report("kasan")], False),
    ("fixed", "deflate-vs-isolate", [Report("list_corruption", "balloon_page_dequeue")], False),
])
def test_the_soak_allows_only_the_documented_races(soak, design, scenario, reports, allowed):
    assert soak.exploration_allowed(design, scenario, reports) is allowed


@pytest.mark.parametrize("design", ["redesign", "fixed"])
def test_the_parked_balloon_pages_are_found_among_the_pages_without_kpf_balloon(soak, bs, design):
    """The invariants look for the old pages of migrated balloon pages (v3.18 unmap_and_move parks them in a pagevec)
    among the tagged pages without KPF_BALLOON only: they find as many as looking at every tagged page does."""
    sim = bs.Simulation(memory_mib=16, design=design, cpus=1, seed=1)
    sim.workload.anon(mib=7)  # 8 MiB (with its page tables) leaves compaction 6 balloon pages to move, none parked at the end
    sim.balloon.inflate(mib=4)
    sim.workload.free(fraction=0.5, pattern="interleave", seed=1)
    sim.compact()
    tagged = np.flatnonzero(sim.page_map() == bs.PageKind.balloon)

    walked = sum(sim.page(int(pfn)).list.startswith("lru_add_pvec") for pfn in tagged)
    assert walked == len(tagged) - sim.balloon.pages > 0
    assert soak.parked_pages(sim, tagged) == walked
    assert soak.invariants(sim) is None
