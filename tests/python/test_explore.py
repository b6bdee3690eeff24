"""bs.explore: schedules of the named race scenarios, deterministic and replayable, each defect found in the
designs that have it and not in those that fixed it (kernel-semantics §8)."""
import pytest

SCHEDULES = 100   # modest: a few tenths of a second per exploration


@pytest.fixture(scope="module")
def explore(bs):
    """bs.explore without a progress bar, memoised: the same call always gives the same result."""
    cache = {}

    def run(scenario, design="legacy", strategy="random", schedules=SCHEDULES, seed=1, **kw):
        key = (scenario, design, strategy, schedules, seed, tuple(sorted(kw.items())))
        if key not in cache:
            cache[key] = bs.explore(scenario, design=design, strategy=strategy, schedules=schedules, seed=seed,
                                    progress=False, **kw)
        return cache[key]
    return run


def test_the_four_defects_have_scenarios(bs):
    assert {"scan-vs-migrate", "migrate-twice", "isolate-without-lru-lock", "deflate-vs-isolate"} <= set(bs.scenarios())


def test_explore_counts_add_up(explore):
    res = explore("deflate-vs-isolate")
    assert res.schedules == SCHEDULES
    assert res.failing == len(res.failing_indices) > 0
    assert res.failing_indices == sorted(res.failing_indices) and res.failing_indices[-1] < SCHEDULES
    assert res.first_failure.index == res.failing_indices[0]
    assert res.first_failure.reports
    # a failing schedule may report several kinds, so the per-kind counts are at least the failing total
    assert max(res.failing_by_kind.values()) <= res.failing <= sum(res.failing_by_kind.values())


@pytest.mark.parametrize("strategy, scenario", [("random", "deflate-vs-isolate"), ("pct", "scan-vs-migrate")])
def test_explore_is_deterministic(bs, explore, strategy, scenario):
    a = explore(scenario, strategy=strategy, seed=3)
    b = bs.explore(scenario, design="legacy", strategy=strategy, schedules=SCHEDULES, seed=3, progress=False)
    assert (a.failing_indices, a.failing_by_kind) == (b.failing_indices, b.failing_by_kind)
    assert a.first_failure is not None   # a failing schedule to compare decision by decision
    assert a.first_failure.choices == b.first_failure.choices
    assert a.first_failure.trace.equals(b.first_failure.trace)


def test_schedule_i_does_not_depend_on_chunking(bs, explore):
    whole = explore("deflate-vs-isolate")
    chunked = bs.explore("deflate-vs-isolate", design="legacy", schedules=SCHEDULES, seed=1, chunk=7, progress=False)
    assert chunked.failing_indices == whole.failing_indices
    assert chunked.failing_by_kind == whole.failing_by_kind


def test_different_seeds_explore_different_schedules(explore):
    a, b = explore("deflate-vs-isolate", seed=1), explore("deflate-vs-isolate", seed=2)
    assert a.failing_indices != b.failing_indices


@pytest.mark.parametrize("scenario", ["scan-vs-migrate", "deflate-vs-isolate"])
def test_replay_reproduces_reports_and_trace(explore, scenario):
    first = explore(scenario).first_failure
    again = first.replay()
    assert again.index == first.index and again.choices == first.choices
    assert again.trace.equals(first.trace)
    assert again.reports == first.reports
    assert again.deadlock == first.deadlock


def test_trace_is_a_step_ordered_frame_of_cpus_and_points(explore):
    trace = explore("scan-vs-migrate").first_failure.trace
    assert list(trace.columns) == ["step", "cpu", "task", "point"]
    assert trace["step"].is_monotonic_increasing and trace["step"].is_unique
    assert set(trace["cpu"]) == {0, 1}
    assert trace.groupby("cpu")["task"].nunique().eq(1).all()   # each CPU runs one task of the race


@pytest.mark.parametrize("kwargs, name", [
    ({"scenario": "no-such-race"}, "scenario"),
    ({"design": "v4.8"}, "design"),
    ({"strategy": "dfs-forever"}, "strategy"),
    ({"schedules": 0}, "schedules"),
    ({"schedules": -5}, "schedules"),
    ({"schedules": 2.5}, "schedules"),
    ({"depth": 11}, "depth"),
])
def test_bad_input_raises_valueerror_naming_the_argument(bs, kwargs, name):
    args = {"scenario": "deflate-vs-isolate", "design": "legacy", "strategy": "random", "schedules": 10,
            "progress": False, **kwargs}
    with pytest.raises(ValueError, match=name):
        bs.explore(**args)


def test_unknown_scenario_error_lists_the_scenarios(bs):
    with pytest.raises(ValueError) as e:
        bs.explore("no-such-race", schedules=1, progress=False)
    assert all(name in str(e.value) for name in bs.scenarios())


# --------------------------------------------------------------------------- the defects, per design

def test_defect1_scan_vs_migrate_kasan_in_legacy_only(explore):
    """Pre-d6d86c0 balloon_page_movable() reads newpage->mapping->flags locklessly; after move_to_new_page set
    the mapping to an anon_vma that read is a KASAN out-of-bounds report. Post-patch the test is PageBalloon."""
    legacy = explore("scan-vs-migrate")
    assert set(legacy.failing_by_kind) == {"kasan"}
    for design in ("redesign", "fixed"):
        assert explore("scan-vs-migrate", design=design).failing == 0, design


def test_defect1_kasan_fires_at_the_mapping_read_after_move_to_new_page(explore):
    run = explore("scan-vs-migrate").first_failure
    (report,) = run.reports
    assert report.kind == "kasan" and "balloon_page_movable" in report.trace
    trace = run.trace.set_index("step")
    at = trace.loc[report.step]
    assert (at["cpu"], at["point"]) == (report.cpu, "balloon_page_movable: page->mapping read")
    # The scanner read the page's flags (still "fresh page") before the migration set newpage->mapping,
    # and followed the mapping after it.
    scanner = run.trace[run.trace["cpu"] == report.cpu]
    flags_read = scanner.loc[scanner["point"] == "balloon_page_movable: page->flags read", "step"]
    last_flags_read = flags_read[flags_read < report.step].max()
    mapping_set = run.trace.loc[run.trace["point"] == "move_to_new_page: newpage->mapping set", "step"]
    assert ((last_flags_read < mapping_set) & (mapping_set < report.step)).any()


def test_defect2_migrate_twice_balloon_unmovable_in_legacy_only(explore):
    """Pre-d6d86c0 move_to_new_page clears newpage->mapping after the balloon driver's migratepage: the page
    moved once and can never be isolated again."""
    assert explore("migrate-twice").failing_by_kind == {"balloon_unmovable": SCHEDULES}
    for design in ("redesign", "fixed"):
        assert explore("migrate-twice", design=design).failing == 0, design


@pytest.mark.parametrize("scenario", ["deflate-vs-isolate", "deflate-vs-migrate"])
def test_defect4_deflate_vs_isolate(bs, explore, scenario):
    """Pre-d6d86c0 balloon_page_dequeue takes isolated pages off compaction's list: leaked pages, list
    corruption, isolated_pages stuck. d6d86c0 skips !PagePrivate pages but keeps the unlocked walk's next-cursor
    race (list_corruption only); v4.5 walks under pages_lock: nothing."""
    assert scenario in bs.scenarios()
    legacy = set(explore(scenario).failing_by_kind)
    assert {"page_leak", "isolated_pages"} <= legacy
    assert set(explore(scenario, design="redesign", schedules=200).failing_by_kind) <= {"list_corruption"}
    assert explore(scenario, design="fixed", schedules=200).failing == 0


def test_defect4_redesign_keeps_the_next_cursor_race(explore):
    """3.18's dequeue still walks the balloon list without pages_lock: the next entry can be isolated under it."""
    res = explore("deflate-vs-isolate", design="redesign", schedules=200)
    assert res.failing > 0 and set(res.failing_by_kind) == {"list_corruption"}
    assert any("balloon_page_dequeue" in r.trace for r in res.first_failure.reports)


def test_isolate_without_lru_lock_is_an_outcome_not_a_finding(explore):
    """Defect 3 leaves balloon pages unmoved, which no sanitizer reports (test_experiments measures it)."""
    import balloonscript
    for design in balloonscript.DESIGNS:
        assert explore("isolate-without-lru-lock", design=design, schedules=5).failing == 0, design


# --------------------------------------------------------------------------- the timeline picture

def test_timeline_draws_the_interleaving_and_the_report(explore):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from balloonscript import plots
    run = explore("scan-vs-migrate").first_failure
    ax = plots.plot_timeline(run)
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert [t.split("\n")[0] for t in ticks] == ["CPU0", "CPU1"]
    assert "migrate_pages" in ticks[0]
    # one tick per preemption point passed (blocked ones drawn as crosses)
    marks = {line.get_marker(): line for line in ax.get_lines()}
    blocked = run.trace["point"].str.startswith("blocked: ")
    assert len(marks["|"].get_xdata()) == (~blocked).sum() and len(marks["x"].get_xdata()) == blocked.sum()
    assert list(marks["^"].get_xdata()) == [run.reports[0].step]   # the report, where it fired
    assert [t.get_text() for t in ax.texts] == ["kasan"]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "move_to_new_page: newpage->mapping set" in legend
    assert "balloon_page_movable: page->mapping read" in legend
    assert all(any(k in p for k in plots.TIMELINE_LABELS) for p in legend)
    plt.close(ax.figure)


def test_readme_explore_example_runs(bs, repo, monkeypatch):
    import re
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    blocks = re.findall(r"```python\n(.*?)```", (repo / "README.md").read_text(), re.S)
    blocks = [b for b in blocks if "bs.explore(" in b]
    assert blocks, "README.md has no bs.explore example"
    monkeypatch.chdir(repo)
    scope = {}
    exec(compile(blocks[0], "README.md", "exec"), scope)
    assert scope["res"].failing > 0 and scope["run"].reports
    assert set(scope["df"]["design"]) == set(bs.DESIGNS)
    plt.close("all")


def test_dfs_covers_every_schedule_within_the_bound_and_finds_defect_1_with_one_preemption(bs):
    legacy = bs.explore("scan-vs-migrate", design="legacy", strategy="dfs", depth=1, schedules=10_000, progress=False)
    fixed = bs.explore("scan-vs-migrate", design="fixed", strategy="dfs", depth=1, schedules=10_000, progress=False)
    assert legacy.exhausted and fixed.exhausted
    assert legacy.failing_by_kind.keys() == {"kasan"}
    assert fixed.failing == 0
    assert legacy.first_failure.replay().reports == legacy.first_failure.reports


def test_sleep_sets_find_every_failure_signature_of_plain_dfs_in_fewer_schedules(bs):
    plain = bs.explore("deflate-vs-isolate", design="legacy", strategy="dfs", depth=2, schedules=100_000, progress=False)
    reduced = bs.explore("deflate-vs-isolate", design="legacy", strategy="dfs", depth=2, schedules=100_000,
                         progress=False, reduction="sleep-sets")
    assert plain.exhausted and reduced.exhausted
    assert reduced.reduction == "sleep-sets" and plain.reduction == "none"
    assert {g.signature for g in reduced.groups} == {g.signature for g in plain.groups}
    assert reduced.schedules < plain.schedules and reduced.pruned_runs > 0
    replayed = reduced.failure(reduced.failing_indices[0])
    assert replayed.reports == reduced.first_failure.reports


def test_sleep_sets_are_for_dfs_only(bs):
    with pytest.raises(ValueError, match="reduction"):
        bs.explore("deflate-vs-isolate", strategy="random", schedules=10, progress=False, reduction="sleep-sets")
    with pytest.raises(ValueError, match="reduction"):
        bs.explore("deflate-vs-isolate", strategy="dfs", schedules=10, progress=False, reduction="dpor")


def test_sleep_sets_need_reduction_enabled_before_the_first_simulation(repo):
    """Reduction's recording is compiled in only for a process that asked before its first simulation: asked later,
    enable_partial_order_reduction() says False and reduction="sleep-sets" is a ValueError naming the way out."""
    import subprocess
    import sys
    from conftest import subprocess_env
    child = (
        "import balloonscript as bs\n"
        "bs.Simulation(memory_mib=16, design='legacy', seed=1)\n"
        "print(bs.enable_partial_order_reduction())\n"
        "try:\n"
        "    bs.explore('scan-vs-migrate', strategy='dfs', depth=1, schedules=10, progress=False, reduction='sleep-sets')\n"
        "except ValueError as e:\n"
        "    print('ValueError', e)\n")
    out = subprocess.run([sys.executable, "-c", child], env=subprocess_env(), capture_output=True, text=True,
                         timeout=300, cwd=repo).stdout
    assert out.splitlines()[0] == "False"
    assert "ValueError reduction:" in out and "enable_partial_order_reduction()" in out
