"""matplotlib helpers draw what the engine reports."""
import numpy as np
import pytest


@pytest.fixture(scope="module")
def plots():
    import matplotlib
    matplotlib.use("Agg")
    from balloonscript import plots
    return plots


@pytest.fixture(scope="module")
def sim(bs):
    s = bs.Simulation(memory_mib=64, design="legacy", seed=4)
    s.workload.anon(mib=16)
    s.workload.slab(mib=2)
    s.workload.free(fraction=0.5, pattern="interleave", seed=1)
    return s


def test_page_map_picture_has_one_row_per_pageblock(bs, plots, sim):
    ax = plots.plot_page_map(sim)
    img = ax.get_images()[0].get_array()
    pm = sim.page_map()
    assert img.shape == (pm.size // 512, 512)
    assert np.array_equal(np.asarray(img).ravel(), pm)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert [label.split(" (")[0] for label in labels] == [k.name for k in bs.PageKind if (pm == k.value).any()]
    assert {"free", "anon (process memory)", "slab (unmovable kernel memory)"} <= set(labels)


def test_page_map_image_pads_a_short_last_row(plots):
    img = plots.page_map_image(np.arange(5, dtype=np.uint8), width=4)
    assert img.tolist() == [[0, 1, 2, 3], [4, -1, -1, -1]]


def test_buddyinfo_bars_are_the_free_blocks(plots, sim):
    fb = sim.free_blocks()
    ax = plots.plot_buddyinfo(sim)
    assert [int(p.get_height()) for p in ax.patches] == fb.tolist()
    ax = plots.plot_buddyinfo({"a": fb, "b": np.zeros(11, dtype=np.int64)})
    assert len(ax.patches) == 22 and [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b"]


def test_savefig_writes_a_png(plots, sim, tmp_path):
    path = plots.savefig(plots.plot_page_map(sim), tmp_path / "sub" / "map.png")
    assert open(path, "rb").read(8) == b"\x89PNG\r\n\x1a\n"


def test_page_map_marks_never_movable_balloon_pages_and_zones(bs):
    import matplotlib.pyplot as plt
    from balloonscript import experiments as ex, plots
    legacy = ex.ballooned_guest("legacy", memory_mib=64, seed=1)
    legacy.compact()
    mask = legacy.balloon_unmovable()
    assert mask.sum() == legacy.report_counts()["balloon_unmovable"] > 0
    ax = plots.plot_page_map(legacy)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "balloon, never movable again (defect 2)" in labels and "anon (process memory)" in labels
    assert [t.get_text() for t in ax.texts] == [name for name, _, _ in legacy.zones()] == ["DMA", "DMA32"]
    assert ax.get_xlabel() and ax.get_ylabel()
    redesign = ex.ballooned_guest("redesign", memory_mib=64, seed=1)
    redesign.compact()
    assert not redesign.balloon_unmovable().any()
    plt.close("all")


def test_notebook_reprs_are_short_and_html_is_a_table(bs):
    sim = bs.Simulation(memory_mib=32, design="fixed", seed=4, swap_mib=8)
    sim.balloon.inflate(mib=2)
    text = repr(sim)
    assert text.startswith("<Simulation fixed 32 MiB seed=4, swap_mib=8:") and "balloon 2 MiB" in text and "\n" not in text
    html = sim._repr_html_()
    assert html.startswith("<table>") and "balloon (MiB)" in html
    r = sim.compact()
    assert r._repr_html_().count("<tr>") == 5 + len(r.zones)
