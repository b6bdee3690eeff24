"""Inside the pages (sim.page, bulk flag and pageblock arrays, /proc/kpageflags), findings at scale (counts per
kind, caps, a DataFrame), and the simulation seed as the source of every random choice."""
import numpy as np
import pytest

KPF_LRU, KPF_BUDDY, KPF_BALLOON = 5, 10, 23


@pytest.fixture(scope="module")
def ballooned(bs):
    sim = bs.Simulation(memory_mib=64, design="redesign", seed=3)
    sim.workload.anon(mib=20)
    sim.workload.file(mib=10)
    sim.workload.free(fraction=0.5)
    sim.balloon.inflate(mib=8)
    return sim


def test_page_agrees_with_the_bulk_arrays(bs, ballooned):
    from balloonscript.simulation import MIGRATETYPES, PAGE_FLAGS
    sim = ballooned
    kinds, flags, kpf = sim.page_map(), sim.page_flags(), sim.kpageflags()
    mts, skip = sim.pageblock_migratetypes(), sim.pageblock_skip()
    rng = np.random.default_rng(0)
    for pfn in rng.choice(sim.memory_mib * bs.PAGES_PER_MIB, size=300, replace=False):
        p = sim.page(int(pfn))
        assert p.kind == bs.PageKind(kinds[pfn]).name
        assert set(p.flags) == {name for bit, name in enumerate(PAGE_FLAGS) if flags[pfn] >> bit & 1}
        assert p.migratetype == MIGRATETYPES[mts[pfn >> bs.PAGEBLOCK_ORDER]]
        assert p.pageblock_skip == bool(skip[pfn >> bs.PAGEBLOCK_ORDER])
        assert (p.page_type == "buddy") == bool(int(kpf[pfn]) >> KPF_BUDDY & 1)
        assert ("lru" in p.flags) == bool(int(kpf[pfn]) >> KPF_LRU & 1)


def test_page_names_what_a_debugger_would_show(bs, ballooned):
    sim = ballooned
    pm = sim.page_map()
    balloon = sim.page(int(np.flatnonzero(pm == bs.PageKind.balloon.value)[0]))
    assert (balloon.page_type, balloon.mapcount, balloon.list) == ("balloon", -256, "balloon pages")
    assert "private" in balloon.flags, "v3.18: PG_private means on the balloon list"
    anon = sim.page(int(np.flatnonzero(pm == bs.PageKind.anon.value)[0]))
    assert anon.mapping == "anon_vma" and anon.list.endswith("_anon") and anon.mapcount >= 0 and anon.content != 0
    free = sim.page(0)
    assert free.page_type == "buddy" and free.list.startswith("DMA free_area[")


def test_kpageflags_balloon_bit_exists_from_v3_18(bs):
    for design, has_bit in (("legacy", False), ("redesign", True), ("fixed", True)):
        sim = bs.Simulation(memory_mib=32, design=design, seed=1)
        sim.balloon.inflate(mib=4)
        kpf = sim.kpageflags()[sim.page_map() == bs.PageKind.balloon.value]
        assert len(kpf) == 4 * bs.PAGES_PER_MIB
        bits = (kpf >> np.uint64(KPF_BALLOON)) & np.uint64(1)
        assert bool(bits.all()) is has_bit and bool(bits.any()) is has_bit


def test_page_of_a_bad_pfn_is_a_valueerror(bs, ballooned):
    with pytest.raises(ValueError, match="pfn"):
        ballooned.page(64 * bs.PAGES_PER_MIB)
    with pytest.raises(ValueError, match="pfn"):
        ballooned.page(-1)


def test_report_caps_keep_the_first_n_and_count_them_all(bs):
    from balloonscript import experiments as ex
    full = ex.ballooned_guest("legacy", memory_mib=128, seed=1)
    full.compact()
    counts = full.report_counts()
    assert counts["balloon_unmovable"] > 100
    capped = ex.ballooned_guest("legacy", memory_mib=128, seed=1, max_reports_per_kind=10)
    capped.compact()
    assert capped.report_counts() == counts, "nothing counted is lost"
    kept = [r for r in capped.reports() if r.kind == "balloon_unmovable"]
    assert len(kept) == 10
    assert [str(r) for r in kept] == [str(r) for r in full.reports() if r.kind == "balloon_unmovable"][:10]


def test_reports_frame_is_the_reports_in_columns(bs):
    from balloonscript import experiments as ex
    sim = ex.ballooned_guest("legacy", memory_mib=64, seed=1)
    sim.compact()
    df, reports = sim.reports_frame(), sim.reports()
    assert len(df) == len(reports) > 0
    assert list(df["kind"].astype(str)) == [r.kind for r in reports]
    assert list(df["pfn"]) == [r.pfn for r in reports] and list(df["message"]) == [r.message for r in reports]
    assert df["trace"].iloc[0] == " <- ".join(reversed(reports[0].trace))


def _freed_map(bs, seed, free_seed=None):
    sim = bs.Simulation(memory_mib=64, seed=seed)
    sim.workload.anon(mib=30)
    sim.workload.free(fraction=0.5, pattern="random", seed=free_seed)
    sim.workload.touch(fraction=0.5, pattern="random", seed=free_seed)
    return sim.page_map(), sim.page_flags()


def test_the_simulation_seed_decides_every_random_choice(bs):
    one, again, two = _freed_map(bs, 1), _freed_map(bs, 1), _freed_map(bs, 2)
    assert all(np.array_equal(a, b) for a, b in zip(one, again)), "same seed, same run"
    assert not np.array_equal(one[0], two[0]), "another seed, another run"
    pinned = [_freed_map(bs, s, free_seed=5) for s in (1, 2)]
    assert all(np.array_equal(a, b) for a, b in zip(*pinned)), "a call's own seed overrides the stream"
