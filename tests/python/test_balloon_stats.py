"""sim.balloon.stats(): what the design's virtio_balloon update_balloon_stats would send on the stats virtqueue."""
import pytest

V3_16_TAGS = ["VIRTIO_BALLOON_S_SWAP_IN", "VIRTIO_BALLOON_S_SWAP_OUT", "VIRTIO_BALLOON_S_MAJFLT", "VIRTIO_BALLOON_S_MINFLT",
              "VIRTIO_BALLOON_S_MEMFREE", "VIRTIO_BALLOON_S_MEMTOT"]


@pytest.mark.parametrize("design, tags", [
    ("legacy", V3_16_TAGS), ("fixed", V3_16_TAGS), ("movable", V3_16_TAGS + ["VIRTIO_BALLOON_S_AVAIL"]),
    ("v6.1", V3_16_TAGS[:4] + ["VIRTIO_BALLOON_S_HTLB_PGALLOC", "VIRTIO_BALLOON_S_HTLB_PGFAIL"] + V3_16_TAGS[4:]
     + ["VIRTIO_BALLOON_S_AVAIL", "VIRTIO_BALLOON_S_CACHES"])])
def test_stats_sends_the_tags_of_the_designs_kernel_in_its_order(bs, design, tags):
    sim = bs.Simulation(memory_mib=64, design=design, seed=1)
    sim.workload.file(mib=4)
    sim.workload.anon(mib=8)
    sim.balloon.inflate(mib=4)
    stats = sim.balloon.stats()
    assert list(stats) == tags
    v = sim.vmstat()
    assert stats["VIRTIO_BALLOON_S_MEMFREE"] == v["nr_free_pages"] * bs.PAGE_SIZE
    assert stats["VIRTIO_BALLOON_S_MINFLT"] == v["pgfault"] >= 8 * bs.PAGES_PER_MIB
    assert stats["VIRTIO_BALLOON_S_MEMTOT"] == (64 - 4) * bs.PAGES_PER_MIB * bs.PAGE_SIZE, "the balloon left totalram"
    assert all(isinstance(x, int) and x >= 0 for x in stats.values())


def test_stats_memtot_keeps_the_balloon_with_deflate_on_oom(bs):
    sim = bs.Simulation(memory_mib=64, design="v6.1", deflate_on_oom=True)
    sim.balloon.inflate(mib=4)
    assert sim.balloon.stats()["VIRTIO_BALLOON_S_MEMTOT"] == 64 * bs.PAGES_PER_MIB * bs.PAGE_SIZE
