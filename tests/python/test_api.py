"""The Python API contract (design.md section 4), exercised through the real .NET engine."""
import math
import re

import numpy as np
import pandas as pd
import pytest

import balloonscript as _bs   # the engine's design list, for parametrize

MIB = 128
PAGES_PER_MIB = 256
VMSTAT_NAMES = ["nr_free_pages", "pgmigrate_success", "pgmigrate_fail", "compact_stall", "compact_fail",
                "compact_success", "compact_isolated", "compact_migrate_scanned", "compact_free_scanned",
                "balloon_inflate", "balloon_deflate", "balloon_migrate"]


def populate(sim, mib):
    sim.workload.anon(mib=mib * 3 / 8)
    sim.workload.file(mib=mib * 3 / 16)
    sim.workload.slab(mib=mib / 32)


def snapshot(sim):
    return [sim.page_map().tobytes(), sim.vmstat(), sim.buddyinfo(), sim.free_blocks().tolist(),
            len(sim.history()), sim.reports(), sim.balloon.pages, sim.host.ballooned_pages]


# The buddy-level fixtures pin the model without per-cpu lists and pagevecs, whose parked pages would sit outside
# both the free lists and the page kinds these tests count.
CLASSIC = dict(per_cpu_lists=False, pagevecs=False)


@pytest.fixture(scope="module")
def fresh(bs):
    return bs.Simulation(memory_mib=MIB, design="legacy", cpus=1, seed=1, **CLASSIC)


@pytest.fixture(scope="module")
def fragmented(bs):
    sim = bs.Simulation(memory_mib=MIB, design="legacy", cpus=1, seed=1, **CLASSIC)
    populate(sim, MIB)
    before = sim.free_blocks()
    freed = sim.workload.free(fraction=0.5, pattern="interleave", seed=3)
    return sim, before, freed


@pytest.fixture
def small(bs):
    return bs.Simulation(memory_mib=64, design="redesign", cpus=2, seed=5)


# ---------------------------------------------------------------- construction, PageKind

@pytest.mark.parametrize("design", _bs.DESIGNS)
def test_simulation_builds_for_each_design(bs, design):
    sim = bs.Simulation(memory_mib=64, design=design, cpus=2, seed=0)
    assert sim.design == design and sim.memory_mib == 64
    assert sim.page_map().size == 64 * PAGES_PER_MIB
    assert 0 < sim.vmstat()["nr_free_pages"] <= 64 * PAGES_PER_MIB


def test_pagekind_is_built_from_the_engine_names(bs, fresh):
    names = [str(n).lower() for n in fresh.net.PageKindNames()]
    assert [k.name for k in bs.PageKind] == names
    assert [k.value for k in bs.PageKind] == list(range(len(names)))
    for name in ("free", "anon", "file", "slab", "balloon"):
        assert name in bs.PageKind.__members__
    assert bs.PageKind.free == 0


# ---------------------------------------------------------------- metrics

def test_vmstat_has_kernel_names_and_int_values(fresh):
    vm = fresh.vmstat()
    assert isinstance(vm, dict)
    for name in VMSTAT_NAMES:
        assert name in vm, name
    assert all(type(v) is int for v in vm.values())
    assert 0 < vm["nr_free_pages"] <= MIB * PAGES_PER_MIB


BUDDY_LINE = re.compile(r"Node (\d+), zone ( *\S+) ((?:[ \d]{5}\d ){11})")


def parse_buddyinfo(text):
    assert text.endswith("\n")
    rows = []
    for line in text.splitlines():
        m = BUDDY_LINE.fullmatch(line)
        assert m, f"not in the /proc/buddyinfo format: {line!r}"
        assert len(m.group(2)) >= 8   # "%8s"
        rows.append((m.group(2).strip(), [int(x) for x in m.group(3).split()]))
    assert rows
    return rows


@pytest.mark.parametrize("which", ["fresh", "fragmented"])
def test_buddyinfo_format_and_agrees_with_free_blocks_and_nr_free_pages(request, which):
    sim = request.getfixturevalue(which)
    sim = sim[0] if isinstance(sim, tuple) else sim
    rows = parse_buddyinfo(sim.buddyinfo())
    per_order = np.sum([counts for _, counts in rows], axis=0)
    fb = sim.free_blocks()
    assert fb.dtype == np.int64 and fb.shape == (11,)
    assert per_order.tolist() == fb.tolist()
    assert int((fb << np.arange(11)).sum()) == sim.vmstat()["nr_free_pages"]


def test_pagetypeinfo_is_kernel_text(fresh):
    text = fresh.pagetypeinfo()
    assert text.startswith("Page block order: 9\nPages per block:  512\n"), text[:80]
    assert "Movable" in text and "Unmovable" in text


def test_meminfo_is_kernel_text_whose_memtotal_falls_as_the_balloon_takes_pages(bs):
    sim = bs.Simulation(memory_mib=64, seed=1)   # legacy: v3.16's meminfo, no deflate-on-OOM
    def kb(label):
        return int(next(line.split()[1] for line in sim.meminfo().splitlines() if line.startswith(label + ":")))
    assert sim.meminfo().startswith("MemTotal:") and kb("MemTotal") == 64 * 1024
    sim.balloon.inflate(mib=8)
    assert kb("MemTotal") == 56 * 1024 and kb("MemFree") == sim.vmstat()["nr_free_pages"] * 4
    assert "Zswap:" in bs.Simulation(memory_mib=64, design="v6.1", seed=1).meminfo()   # 6.1's lines


def test_proc_swaps_is_kernel_text(bs):
    assert bs.Simulation(memory_mib=64, seed=1).proc_swaps() == "Filename\t\t\t\tType\t\tSize\tUsed\tPriority\n"
    line = bs.Simulation(memory_mib=64, seed=1, reclaim=True, swap_mib=16).proc_swaps().splitlines()[1]
    assert line.split() == ["/dev/vdb", "partition", str(16 * 1024 - 4), "0", "-1"]


def test_fragmenting_moves_free_memory_to_low_orders(fresh, fragmented):
    sim, before, freed = fragmented
    after = sim.free_blocks()
    assert freed > 0
    assert after[0] > before[0]
    assert int((after << np.arange(11)).sum()) - int((before << np.arange(11)).sum()) == freed
    assert sim.unusable_index(9) > fresh.unusable_index(9)


def test_extfrag_and_unusable_index_ranges(fresh, fragmented):
    sim = fragmented[0]
    assert fresh.extfrag_index(order=9) == -1.0   # a free order-9 block exists
    for s in (fresh, sim):
        assert s.unusable_index(0) == 0.0
        for order in range(11):
            e, u = s.extfrag_index(order), s.unusable_index(order)
            assert e == -1.0 or 0.0 <= e <= 1.0, (order, e)
            assert 0.0 <= u <= 1.0, (order, u)
            assert e == s.net.ExtfragIndex(order) / 1000 and u == s.net.UnusableIndex(order) / 1000
    us = [sim.unusable_index(o) for o in range(11)]
    assert us == sorted(us)   # unusable free memory can only grow with the order


def c_index_text(index):
    """C's "%d.%03d" of index / 1000, index % 1000 (both truncate toward zero; the sign counts in the width)."""
    whole = int(index / 1000)
    return f"{whole}.{index - whole * 1000:03d}"


def test_debugfs_texts_print_the_largest_zone_indices(fragmented):
    sim = fragmented[0]
    for text, net_text, index in ((sim.extfrag_text(), sim.net.ExtfragText(), sim.net.ExtfragIndex),
                                  (sim.unusable_text(), sim.net.UnusableText(), sim.net.UnusableIndex)):
        assert text == str(net_text)
        rows = [line.split() for line in text.splitlines()]
        assert [r[:4] for r in rows] == [["Node", "0,", "zone", "DMA"], ["Node", "0,", "zone", "DMA32"]]
        assert rows[-1][4:] == [c_index_text(int(index(o))) for o in range(11)]   # the largest zone: DMA32


def test_page_map(bs, fresh, small):
    pm = fresh.page_map()
    assert pm.dtype == np.uint8 and pm.shape == (MIB * PAGES_PER_MIB,)
    assert set(np.unique(pm).tolist()) <= {k.value for k in bs.PageKind}
    assert (pm == bs.PageKind.free).sum() >= fresh.vmstat()["nr_free_pages"]   # buddy pages are free
    n = small.workload.anon(mib=8)
    assert n == 8 * PAGES_PER_MIB
    assert int((small.page_map() == bs.PageKind.anon).sum()) == n
    m = small.workload.file(mib=2)
    assert int((small.page_map() == bs.PageKind.file).sum()) == m == 2 * PAGES_PER_MIB


def test_page_map_is_a_copy(fresh):
    pm = fresh.page_map()
    pm[:] = 255
    assert fresh.page_map().max() < 255


def test_page_flags_is_a_copy_that_an_operation_leaves_as_it_was(bs):
    sim = bs.Simulation(memory_mib=MIB, seed=1)
    flags = sim.page_flags()
    before = flags.copy()
    sim.workload.anon(mib=1)
    assert np.array_equal(flags, before) and not np.array_equal(sim.page_flags(), before)
    flags[:] = 0
    assert sim.page_flags().any()


# (.NET element type, length, numpy dtype, whether the copy is returned as made: large and of the same type)
@pytest.mark.parametrize("net_type, count, dtype, as_made", [("Byte", 5 << 20, np.uint8, True),
                                                             ("Int32", 3 << 19, np.int32, True),
                                                             ("Int32", 3 << 19, np.int64, False),
                                                             ("Int32", 1000, np.int64, False)])
def test_np_copy_copies_values_into_a_fresh_array(net_type, count, dtype, as_made):
    from balloonscript._convert import HUGE_PAGE, System, np_copy
    net = System.Array.CreateInstance(getattr(System, net_type), count)
    for i in (0, 1, count // 2, count - 1):
        net[i] = i % 251
    out = np_copy(net, dtype)
    assert out.dtype == dtype and out.shape == (count,)
    expected = np.zeros(count, dtype)
    expected[[0, 1, count // 2, count - 1]] = [i % 251 for i in (0, 1, count // 2, count - 1)]
    assert np.array_equal(out, expected)
    out[:] = 7                                   # a copy: the .NET array is untouched
    assert net[count - 1] == (count - 1) % 251
    if as_made:
        assert out.ctypes.data % HUGE_PAGE == 0  # large copies start on a huge page (few faults on first touch)


def test_determinism_same_seed_same_memory(bs):
    def run(seed, free_seed):
        sim = bs.Simulation(memory_mib=64, design="legacy", cpus=2, seed=seed)
        populate(sim, 64)
        sim.workload.free(fraction=0.4, pattern="random", seed=free_seed)
        return sim.page_map().tobytes(), sim.vmstat(), sim.buddyinfo()

    a, b = run(7, 3), run(7, 3)
    assert a == b
    assert run(7, 4)[0] != a[0]   # a different free seed punches different holes


def test_reports_are_dataclasses_mirroring_the_engine_reports(bs):
    # legacy strands every balloon page compaction migrates (balloon_unmovable): a guest with findings
    from balloonscript import experiments
    sim = experiments.ballooned_guest("legacy", memory_mib=64)
    sim.compact()
    reports, net = sim.reports(), list(sim.net.Reports())
    assert reports and len(reports) == len(net)
    for r, n in zip(reports, net):
        assert isinstance(r, bs.Report) and r.kind in bs.REPORT_KINDS
        assert (r.kind, r.pfn, r.message, r.cpu, r.step) == (str(n.Kind), int(n.Pfn), str(n.Message), int(n.Cpu), int(n.Step))
        assert r.trace == tuple(str(t) for t in n.Trace)
    assert "balloon_unmovable" in {r.kind for r in reports}


def test_history_is_a_dataframe_matching_the_engine(fragmented):
    sim = fragmented[0]
    df = sim.history()
    cols = [str(c) for c in sim.net.HistoryColumns()]
    assert isinstance(df, pd.DataFrame)
    assert df["op"].tolist() == [str(o) for o in sim.net.HistoryOps()]   # what each step did
    assert set(df["op"]) >= {"workload.anon", "workload.free"}
    df = df.drop(columns="op")
    assert list(df.columns) == cols
    values = np.asarray(sim.net.HistoryValues(), dtype=float)
    assert df.shape == (len(values) // max(1, len(cols)), len(cols))
    assert np.allclose(df.to_numpy(dtype=float).ravel(), values)
    table = values.reshape(df.shape)   # counters are integers; the others (e.g. a ratio) stay doubles, in their places
    assert [str(t) for t in df.dtypes] == ["int64" if (c == np.round(c)).all() else "float64" for c in table.T]
    assert "float64" in {str(t) for t in df.dtypes}   # the frame has both kinds here


def test_history_grows_with_steps(small):
    n0 = len(small.history())
    small.workload.anon(mib=1)
    small.workload.free(fraction=0.5, pattern="interleave", seed=1)
    df = small.history()
    assert len(df) == n0 + 2   # one row per operation
    assert df["op"].tolist()[-2:] == ["workload.anon", "workload.free"]
    assert df["nr_free_pages"].iloc[-1] == small.vmstat()["nr_free_pages"]


# ---------------------------------------------------------------- balloon, compaction, allocation

def test_balloon_inflate_deflate_and_host_ledger(bs, small):
    pages = small.balloon.inflate(mib=4)
    assert pages == 4 * PAGES_PER_MIB
    assert small.balloon.pages == pages and small.host.ballooned_pages == pages
    assert int((small.page_map() == bs.PageKind.balloon).sum()) == pages
    assert small.vmstat()["balloon_inflate"] == pages
    out = small.balloon.deflate(mib=2)
    assert out == 2 * PAGES_PER_MIB
    assert small.balloon.pages == pages - out == small.host.ballooned_pages
    assert small.vmstat()["balloon_deflate"] == out


def test_compaction_moves_pages_without_losing_any(bs, fragmented):
    sim = fragmented[0]
    kinds = (bs.PageKind.anon, bs.PageKind.file, bs.PageKind.slab)
    pm = sim.page_map()
    counts = [int((pm == k).sum()) for k in kinds]
    free = sim.vmstat()["nr_free_pages"]
    high = int(sim.free_blocks()[9:].sum())
    r = sim.compact()
    assert isinstance(r, bs.CompactResult)
    assert r.migrated > 0 and r.isolated >= r.migrated and r.migrate_scanned > 0 and r.free_scanned > 0
    assert isinstance(r.zones, dict) and r.zones
    pm = sim.page_map()
    assert [int((pm == k).sum()) for k in kinds] == counts
    assert sim.vmstat()["nr_free_pages"] == free
    assert int(sim.free_blocks()[9:].sum()) > high
    assert sim.vmstat()["pgmigrate_success"] >= r.migrated


def test_allocate_high_order_on_a_fresh_guest(small):
    ok = small.allocate(order=9, count=2)
    assert ok == 2


# ---------------------------------------------------------------- wrong input

@pytest.mark.parametrize("kwargs, name", [
    (dict(memory_mib=0), "memory_mib"),
    (dict(memory_mib=-64), "memory_mib"),
    (dict(memory_mib=10**9), "memory_mib"),
    (dict(memory_mib=10**30), "memory_mib"),
    (dict(memory_mib="64"), "memory_mib"),
    (dict(memory_mib=64.0), "memory_mib"),
    (dict(memory_mib=64, design="modern"), "design"),
    (dict(memory_mib=64, design=None), "design"),
    (dict(memory_mib=64, cpus=0), "cpus"),
    (dict(memory_mib=64, seed="x"), "seed"),
    (dict(memory_mib=64, per_cpu_lists=1), "per_cpu_lists"),
])
def test_bad_construction_raises_valueerror_naming_the_argument(bs, kwargs, name):
    with pytest.raises(ValueError, match=name):
        bs.Simulation(**kwargs)


BAD_CALLS = [
    ("allocate order 11", lambda s: s.allocate(order=11, count=1), "order"),
    ("allocate order -1", lambda s: s.allocate(order=-1, count=1), "order"),
    ("allocate order str", lambda s: s.allocate(order="9", count=1), "order"),
    ("allocate count -1", lambda s: s.allocate(order=0, count=-1), "count"),
    ("extfrag order 11", lambda s: s.extfrag_index(order=11), "order"),
    ("unusable order -1", lambda s: s.unusable_index(order=-1), "order"),
    ("free fraction 1.5", lambda s: s.workload.free(fraction=1.5), "fraction"),
    ("free fraction -0.1", lambda s: s.workload.free(fraction=-0.1), "fraction"),
    ("free fraction nan", lambda s: s.workload.free(fraction=math.nan), "fraction"),
    ("free pattern", lambda s: s.workload.free(fraction=0.5, pattern="zigzag"), "pattern"),
    ("anon negative", lambda s: s.workload.anon(mib=-1), "mib"),
    ("file str", lambda s: s.workload.file(mib="1"), "mib"),
    ("balloon too big", lambda s: s.balloon.inflate(mib=10**6), "mib"),
    ("deflate negative", lambda s: s.balloon.deflate(mib=-1), "mib"),
]


@pytest.mark.parametrize("label, call, name", BAD_CALLS, ids=[c[0] for c in BAD_CALLS])
def test_bad_call_raises_valueerror_and_leaves_simulation_unchanged(bs, label, call, name):
    sim = bs.Simulation(memory_mib=64, design="legacy", seed=2)
    sim.workload.anon(mib=16)
    sim.workload.free(fraction=0.25, pattern="random", seed=1)
    before = snapshot(sim)
    try:
        call(sim)
    except ValueError as e:
        assert name in str(e), str(e)
    else:
        pytest.fail(f"{label}: no ValueError")
    assert snapshot(sim) == before
    assert sim.workload.anon(mib=1) == PAGES_PER_MIB   # still usable


def test_per_cpu_lists_keep_order0_frees_off_the_buddy_lists(bs):
    def run(per_cpu_lists):
        sim = bs.Simulation(memory_mib=64, cpus=2, seed=1, per_cpu_lists=per_cpu_lists)
        sim.workload.anon(mib=24)
        sim.workload.free(fraction=0.5, pattern="random", seed=3)
        return sim
    plain, pcp = run(False), run(True)
    # zone_batchsize (v3.16) for 64 MiB: DMA 4096 pages -> batch 0, high 0; DMA32 12288 pages -> batch 3, high 18.
    high_per_cpu = 0 + 18
    held = plain.vmstat()["nr_free_pages"] - pcp.vmstat()["nr_free_pages"]
    assert pcp.buddyinfo() != plain.buddyinfo()
    assert 0 < held <= high_per_cpu * 2
    assert plain.reports() == [] and pcp.reports() == []
    assert "per_cpu_lists" not in repr(pcp) and "per_cpu_lists=False" in repr(plain)   # repr names what differs from the defaults


def test_valueerror_keeps_the_engine_message(fresh):
    import System
    try:
        fresh.net.ExtfragIndex(11)
    except System.ArgumentException as e:
        net_message = str(e.Message)
    else:
        pytest.fail("the engine accepted order 11")
    with pytest.raises(ValueError) as info:
        fresh.extfrag_index(11)
    engine_message, _, net_tail = net_message.partition(" (Parameter")
    assert engine_message in str(info.value)
    assert net_tail and "Parameter" not in str(info.value) and "Actual value" not in str(info.value), \
        "the engine's message, without the tail .NET appends"
