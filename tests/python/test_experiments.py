"""balloonscript.experiments: the measurements differ between designs the way the defects predict
(kernel-semantics §8.2, §8.3), deterministically; the demo runs them."""
import numpy as np
import pandas as pd
import pytest

MIB = 128   # small guests: each experiment runs in a fraction of a second


@pytest.fixture(scope="module")
def ex(bs):
    from balloonscript import experiments
    return experiments


@pytest.fixture(scope="module")
def passes(ex):
    return ex.compare(ex.compaction_passes, memory_mib=MIB, passes=3, progress=False)


@pytest.fixture(scope="module")
def lru_blocks(ex):
    return ex.compare(ex.lru_lock_blocks, memory_mib=MIB, progress=False).set_index("design")


@pytest.fixture(scope="module")
def canonical(ex):
    return ex.compare(ex.canonical, memory_mib=MIB, progress=False).set_index("design")


def _design(df, design):
    return df[df["design"] == design].set_index("pass")


# --------------------------------------------------------------------------- defect 2: migrated once, then stuck

def test_compaction_passes_layout(bs, passes):
    assert list(passes.columns[:3]) == ["design", "seed", "pass"]
    assert passes["design"].tolist() == [d for d in bs.DESIGNS for _ in range(4)]
    assert passes["pass"].tolist() == [0, 1, 2, 3] * len(bs.DESIGNS)
    assert (passes.loc[passes["pass"] == 0, ["migrated", "balloon_migrated"]] == 0).all().all()
    assert (passes["balloon_movable"] == passes["balloon_pages"] - passes["balloon_unmovable"]).all()


def test_legacy_strands_every_balloon_page_compaction_migrated(passes):
    """v3.16: move_to_new_page clears newpage->mapping after MIGRATEPAGE_BALLOON_SUCCESS, so each balloon page
    migrated is on the balloon list for good (balloon_unmovable); the count grows with every pass."""
    legacy = _design(passes, "legacy")
    assert (legacy.loc[1:, "balloon_migrated"] > 0).all()
    assert legacy["balloon_unmovable"].tolist() == legacy["balloon_migrated"].cumsum().tolist()
    assert legacy["balloon_unmovable"].is_monotonic_increasing and legacy["balloon_unmovable"].iloc[-1] > 0
    assert legacy["findings_balloon_unmovable"].tolist() == legacy["balloon_unmovable"].tolist()


@pytest.mark.parametrize("design", ["redesign", "fixed"])
def test_redesign_keeps_balloon_pages_movable_pass_after_pass(passes, design):
    df = _design(passes, design)
    assert (df.loc[1:, "balloon_migrated"] > 0).all()
    assert (df["balloon_unmovable"] == 0).all() and (df["findings"] == 0).all()
    assert (df["balloon_movable"] == df["balloon_pages"]).all()


def test_redesign_ends_with_more_huge_pages_than_legacy(passes):
    legacy, redesign = _design(passes, "legacy"), _design(passes, "redesign")
    assert legacy.loc[0, "order9_blocks"] == redesign.loc[0, "order9_blocks"]   # the same guest
    assert redesign.loc[3, "order9_blocks"] > legacy.loc[3, "order9_blocks"]
    assert redesign.loc[3, "unusable_9"] < legacy.loc[3, "unusable_9"]


def test_fixed_equals_redesign_without_deflation(passes):
    """fixed differs from redesign only in balloon_page_dequeue's locking; these guests never deflate."""
    numbers = passes.drop(columns="design")
    assert numbers[passes["design"] == "fixed"].reset_index(drop=True).equals(
        numbers[passes["design"] == "redesign"].reset_index(drop=True))


# --------------------------------------------------------------------------- defect 3: no lru_lock, no isolation

def test_lru_lock_guest_has_balloon_only_pageblocks(lru_blocks):
    assert (lru_blocks["balloon_only_blocks_before"] > 0).all()
    assert (lru_blocks["balloon_pages_before"] > 0).all()


def test_legacy_never_isolates_balloon_pages_without_lru_pages(lru_blocks):
    """v3.16 isolate_migratepages_range: `locked && balloon_page_isolate(page)`, lru_lock taken only at an
    LRU page; a pageblock of balloon and free pages gives nothing to migrate."""
    legacy = lru_blocks.loc["legacy"]
    assert legacy["migrated"] == legacy["isolated"] == legacy["balloon_migrated"] == 0
    assert legacy["balloon_only_blocks_compacted"] == legacy["balloon_only_blocks_before"]
    assert legacy["order9_blocks_compacted"] == legacy["order9_blocks_before"]


@pytest.mark.parametrize("design", ["redesign", "fixed"])
def test_redesign_compacts_balloon_only_pageblocks(lru_blocks, design):
    row, legacy = lru_blocks.loc[design], lru_blocks.loc["legacy"]
    assert row["balloon_migrated"] == row["migrated"] > 0   # only balloon pages were left to move
    assert row["balloon_only_blocks_compacted"] < row["balloon_only_blocks_before"]
    assert row["order9_blocks_compacted"] > legacy["order9_blocks_compacted"]
    assert row["allocated"] > legacy["allocated"]
    assert row["findings"] == 0


# --------------------------------------------------------------------------- the canonical experiment

def test_canonical_experiment_predicted_direction(canonical):
    legacy, redesign = canonical.loc["legacy"], canonical.loc["redesign"]
    assert legacy["balloon_pages_before"] == redesign["balloon_pages_before"] > 0
    assert 0 < legacy["balloon_migrated"] < redesign["balloon_migrated"]
    assert legacy["balloon_unmovable_compacted"] == legacy["balloon_migrated"]
    assert redesign["balloon_unmovable_compacted"] == 0
    assert legacy["balloon_only_blocks_compacted"] > redesign["balloon_only_blocks_compacted"]
    assert legacy["order9_blocks_compacted"] < redesign["order9_blocks_compacted"]
    assert legacy["allocated"] < redesign["allocated"]
    legacy_kinds = {k for k in canonical.columns if k.startswith("findings_") and legacy[k]}
    assert legacy_kinds == {"findings_balloon_unmovable"}
    assert canonical.loc[["redesign", "fixed"], "findings"].eq(0).all()


def test_order9_blocks_counts_order10_twice(ex, bs):
    sim = bs.Simulation(memory_mib=64, design="legacy", seed=1)
    fb = sim.free_blocks()
    assert ex.order9_blocks(sim) == fb[9] + 2 * fb[10] > 0
    assert ex.order9_blocks(sim) == 64 * 256 // 512   # at boot every 512-page block can be handed out


# --------------------------------------------------------------------------- determinism, input

def test_experiments_are_deterministic(ex, passes):
    again = ex.compare(ex.compaction_passes, memory_mib=MIB, passes=3, progress=False)
    pd.testing.assert_frame_equal(again, passes)


def test_seeds_change_the_guest(ex):
    df = ex.compare(ex.lru_lock_blocks, designs=["redesign"], seeds=[1, 2], memory_mib=64, allocations=0,
                    progress=False)
    assert df["seed"].tolist() == [1, 2]
    a = ex.ballooned_guest("redesign", 64, seed=1).page_map()
    b = ex.ballooned_guest("redesign", 64, seed=2).page_map()
    assert not np.array_equal(a, b)


@pytest.mark.parametrize("call, name", [
    (lambda ex: ex.compaction_passes("legacy", memory_mib=MIB, passes=0), "passes"),
    (lambda ex: ex.compaction_passes("legacy", memory_mib=MIB, refree=1.5), "fraction"),
    (lambda ex: ex.compaction_passes("v9", memory_mib=MIB), "design"),
    (lambda ex: ex.lru_lock_blocks("legacy", memory_mib=MIB, allocations=-1), "allocations"),
    (lambda ex: ex.canonical("legacy", memory_mib=MIB, exiting="most"), "exiting"),
    (lambda ex: ex.migrate_after_free("v6.1", memory_mib=MIB, give_back="all of it"), "give_back"),
    (lambda ex: ex.migrate_after_free("legacy", memory_mib=MIB, give_back="hinting"), "free_page_hint"),
    (lambda ex: ex.migrate_after_free("v6.1", memory_mib=MIB, bandwidth_mib_s=0), "bandwidth_mib_s"),
    (lambda ex: ex.khugepaged_after_inflate("v6.1", memory_mib=MIB, idle_s=-1), "idle_s"),
    (lambda ex: ex.khugepaged_after_inflate("v6.1", memory_mib=MIB, max_ptes_none=512), "host_khugepaged_max_ptes_none"),
    (lambda ex: ex.khugepaged_after_inflate("v6.1", memory_mib=MIB, scan_sleep_ms=0), "host_khugepaged_scan_sleep_ms"),
    (lambda ex: ex.reuse_after_deflate("v6.1", memory_mib=MIB, memory_max_mib=MIB - 1), "host_memory_max_mib"),
    (lambda ex: ex.compare(ex.lru_lock_blocks, designs=[], progress=False), "designs"),
    (lambda ex: ex.compare(ex.lru_lock_blocks, seeds=[], progress=False), "seeds"),
    (lambda ex: ex.compare(ex.lru_lock_blocks, seeds=[1.5], progress=False), "seeds"),
])
def test_bad_input_raises_valueerror_naming_the_argument(ex, call, name):
    with pytest.raises(ValueError, match=name):
        call(ex)


# --------------------------------------------------------------------------- plots and the demo

def test_design_comparison_bars_are_the_means(bs, ex):
    import matplotlib
    matplotlib.use("Agg")
    from balloonscript import plots
    df = pd.DataFrame({"design": ["legacy", "legacy", "redesign"], "m": [1.0, 3.0, 5.0]})
    ax = plots.plot_design_comparison(df, "m")
    assert [p.get_height() for p in ax.patches] == [2.0, 5.0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["legacy", "redesign"]
    with pytest.raises(ValueError, match="metric"):
        plots.plot_design_comparison(df, "no_such_column")


def test_design_comparison_draws_a_line_per_design_over_passes(passes):
    import matplotlib
    matplotlib.use("Agg")
    from balloonscript import plots
    ax = plots.plot_design_comparison(passes, "balloon_unmovable")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == list(__import__("balloonscript").DESIGNS)
    legacy_line = ax.get_lines()[0]
    assert list(legacy_line.get_ydata()) == _design(passes, "legacy")["balloon_unmovable"].tolist()


def test_demo_runs_and_writes_its_pictures(tmp_path, capsys):
    from balloonscript import demo
    readme_image = tmp_path / "img" / "page-map.png"
    assert demo.main(["--memory-mib", "64", "--out", str(tmp_path / "out"), "--readme-image", str(readme_image)]) == 0
    out = capsys.readouterr().out
    summary = out[out.index("=== summary"):]
    assert summary.splitlines()[1].split() == list(__import__("balloonscript").DESIGNS)
    assert "order-9 allocations that succeeded" in summary and "findings: balloon_unmovable" in summary
    for png in ["page-maps-compacted.png", "design-comparison.png", "buddyinfo-legacy.png"]:
        assert (tmp_path / "out" / png).read_bytes()[:4] == b"\x89PNG"
    for png in [readme_image, readme_image.parent / "design-comparison.png"]:
        assert png.read_bytes()[:4] == b"\x89PNG"


def test_fresh_inflate_fills_whole_pageblocks_with_balloon_pages(bs):
    from balloonscript import experiments as ex
    row = ex.fresh_inflate("fixed", memory_mib=256, balloon_mib=64).iloc[0]
    assert row["balloon_pages"] == 64 * bs.PAGES_PER_MIB
    # A fresh guest's free memory is in large blocks: fill_balloon splits them, taking turns between DMA32 and DMA (v3.16's
    # fair zone policy), so each zone's run of balloon pages may leave one block at its end partly filled.
    assert 64 // 2 - 2 <= row["balloon_only_pageblocks"] <= 64 // 2
    assert row["balloon_inflate"] - row["balloon_inflate_before"] == row["balloon_pages"]
    assert "Node 0, zone    DMA32" in row["buddyinfo"]


def test_cache_holes_inflate_takes_the_order0_holes_first(bs):
    from balloonscript import experiments as ex
    row = ex.cache_holes_inflate("redesign", memory_mib=256, cache_mib=128, balloon_mib=32).iloc[0]
    holes = row["free_order0_before"]
    assert holes >= 128 * bs.PAGES_PER_MIB // 2 * 0.9, "every other page of the page cache was freed"
    assert row["balloon_pages"] == 32 * bs.PAGES_PER_MIB
    # nearly all from the order-0 free lists; the rest from the per-cpu lists and split blocks
    assert 0.95 * row["balloon_pages"] <= row["order0_blocks_taken"] <= row["balloon_pages"]


def test_compact_after_inflate_legacy_strands_what_it_migrates(bs):
    from balloonscript import experiments as ex
    rows = ex.compare(ex.compact_after_inflate, designs=["legacy", "redesign"], progress=False, memory_mib=256,
                      cache_mib=128, balloon_mib=32).set_index("design")
    assert rows.loc["legacy", "findings_balloon_unmovable"] == rows.loc["legacy", "balloon_migrated_1"] + \
        rows.loc["legacy", "balloon_migrated_2"] > 0
    assert rows.loc["redesign", "findings"] == 0
    assert rows.loc["redesign", "order9_blocks_2"] >= rows.loc["legacy", "order9_blocks_2"]


def test_free_of_one_kind_frees_only_that_kind(bs):
    sim = bs.Simulation(memory_mib=64, seed=1)
    sim.workload.anon(mib=8)
    sim.workload.file(mib=8)
    anon = sim.vmstat()["nr_anon_pages"]
    freed = sim.workload.free(fraction=0.5, kind="file")
    assert freed == 8 * bs.PAGES_PER_MIB // 2 and sim.vmstat()["nr_anon_pages"] == anon
    with pytest.raises(ValueError, match="kind"):
        sim.workload.free(fraction=0.5, kind="dentries")


def test_migrate_after_free_each_way_of_giving_back_spares_the_migration_what_was_freed(ex):
    rows = {how: ex.migrate_after_free("v6.1", memory_mib=512, give_back=how).iloc[0] for how in ex.GIVE_BACK}
    plain = rows["none"]
    assert plain["status"] == "completed" and plain["normal"] == plain["source_resident"] > 300 * 256
    for how in ("balloon", "reporting", "hinting"):
        assert rows[how]["transferred"] < plain["transferred"] / 4, how
        assert rows[how]["destination_resident"] == rows[how]["normal"], how
    assert rows["hinting"]["hinted_pages"] > 300 * 256 and rows["hinting"]["source_resident"] == plain["source_resident"]
    assert all(r["findings"] == 0 for r in rows.values())
    table = ex.compare(ex.migrate_after_free, designs=["legacy", "v6.1"], give_back="balloon", progress=False)
    assert list(table["design"]) == ["legacy", "v6.1"] and (table["status"] == "completed").all()


def test_reuse_after_deflate_holds_more_than_the_guests_ram_unless_qemus_cgroup_has_a_limit(ex):
    """Frames the balloon split out of host huge pages stay held when the guest writes them again after the deflation;
    without a limit the host then holds more than the guest's RAM, with memory.max at the guest's RAM the charge that
    would pass it splits the held huge pages (one memory.events max)."""
    rows = {limit: ex.reuse_after_deflate("v6.1", memory_mib=256, memory_max_mib=limit).iloc[0] for limit in (None, 256)}
    free, limited = rows[None], rows[256]
    assert free["deferred_split_inflated"] == free["balloon_pages"] == int(0.4 * 256 * 256) == free["deferred_split"]
    assert free["memory_current"] == free["host_resident"] + free["deferred_split"] > 256 * 256
    assert free["memory_events_max"] == 0
    assert limited["deferred_split"] == 0 and limited["memory_current"] == limited["host_resident"] <= 256 * 256
    assert limited["memory_events_max"] == 1 and limited["host_resident"] == free["host_resident"]
    assert free["findings"] == limited["findings"] == 0


def test_khugepaged_after_inflate_backs_the_balloon_again_unless_max_ptes_none_is_0(ex):
    """The host's khugepaged collapses every region the balloon split within one pass (256 MiB: 16 wake-ups of 10 s,
    and one more to end the pass), backing the ballooned frames again; max_ptes_none=0 leaves them all alone."""
    rows = {n: ex.khugepaged_after_inflate("v6.1", memory_mib=256, idle_s=170, max_ptes_none=n).iloc[0] for n in (None, 0)}
    default, strict = rows[None], rows[0]
    assert default["thp_splits"] == strict["thp_splits"] > 64 and default["balloon_pages"] == int(0.4 * 256 * 256)
    assert default["pages_collapsed"] == default["thp_splits"] and default["full_scans"] == 1
    assert default["ballooned_resident"] == default["balloon_pages"]
    assert default["host_resident_idle"] - default["host_resident_inflated"] == default["balloon_pages"]
    for row in (default, strict):   # unmapped but held until a deferred split: the memory in use never moves
        assert row["host_resident_inflated"] + row["deferred_split_inflated"] == row["host_resident_idle"] + row["deferred_split_idle"]
    assert default["deferred_split_idle"] == 0 and strict["deferred_split_idle"] == strict["deferred_split_inflated"] > 0
    # (the pass that ended at 160 s starts over at once: its first regions are looked at twice)
    assert strict["pages_collapsed"] == 0 and strict["thp_scan_exceed_none_pte"] >= strict["thp_splits"]
    assert strict["host_resident_idle"] == strict["host_resident_inflated"] and strict["ballooned_resident"] == 0
    assert default["findings"] == strict["findings"] == 0
    fast = ex.khugepaged_after_inflate("legacy", memory_mib=256, idle_s=1.7, scan_sleep_ms=100).iloc[0]
    assert fast["pages_collapsed"] == fast["thp_splits"] > 64, "a 100 ms sleep: the same pass in a hundredth of the time"
