namespace BalloonScript.Engine.Vmstat;

/// <summary>
/// <c>enum zone_stat_item</c> of v3.16 (include/linux/mmzone.h, a kernel without CONFIG_NUMA), in kernel order:
/// the LRU counters are consecutive from NR_LRU_BASE (list index + NrInactiveAnon), and so are the two
/// NR_ISOLATED counters. docs/kernel/reclaim-v3.16.md §9.1.
/// </summary>
internal enum ZoneStat
{
    NrFreePages,
    NrAllocBatch,
    NrInactiveAnon,
    NrActiveAnon,
    NrInactiveFile,
    NrActiveFile,
    NrUnevictable,
    NrMlock,
    NrAnonPages,
    NrMapped,
    NrFilePages,
    NrDirty,
    NrWriteback,
    NrSlabReclaimable,
    NrSlabUnreclaimable,
    NrPageTablePages,
    NrKernelStack,
    NrUnstable,
    NrBounce,
    NrVmscanWrite,
    NrVmscanImmediate,
    NrWritebackTemp,
    NrIsolatedAnon,
    NrIsolatedFile,
    NrShmem,
    NrDirtied,
    NrWritten,
    WorkingsetRefault,
    WorkingsetActivate,
    WorkingsetNodereclaim,
    NrAnonTransparentHugepages,
    NrFreeCmaPages,
    Count,
}

internal static class ZoneStats
{
    /// <summary>/proc/vmstat names (vmstat_text, v3.16), in <see cref="ZoneStat"/> order.</summary>
    public static readonly string[] Names =
    [
        "nr_free_pages", "nr_alloc_batch", "nr_inactive_anon", "nr_active_anon", "nr_inactive_file", "nr_active_file",
        "nr_unevictable", "nr_mlock", "nr_anon_pages", "nr_mapped", "nr_file_pages", "nr_dirty", "nr_writeback",
        "nr_slab_reclaimable", "nr_slab_unreclaimable", "nr_page_table_pages", "nr_kernel_stack", "nr_unstable",
        "nr_bounce", "nr_vmscan_write", "nr_vmscan_immediate_reclaim", "nr_writeback_temp", "nr_isolated_anon",
        "nr_isolated_file", "nr_shmem", "nr_dirtied", "nr_written", "workingset_refault", "workingset_activate",
        "workingset_nodereclaim", "nr_anon_transparent_hugepages", "nr_free_cma",
    ];
}
