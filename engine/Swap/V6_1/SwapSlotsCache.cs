using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Snapshots;

namespace BalloonScript.Engine.Swap.V6_1;

/// <summary>
/// 6.1 mm/swap_slots.c (read in 6.1.57, OnePlusOSS/android_kernel_oneplus_sm8650: Android's tree, whose
/// CONFIG_CONT_PTE_HUGEPAGE additions are not modelled; get_swap_pages in its mm/swapfile.c): each CPU keeps up to <see cref="CacheSize"/> slots fetched in one get_swap_pages (taken off
/// nr_swap_pages at once) and hands them out one by one (folio_alloc_swap); slots let go of are kept per CPU
/// (free_swap_slot, their map entries SWAP_HAS_CACHE) and given back to the area <see cref="CacheSize"/> at a time
/// (swapcache_free_entries). The cache works while swap has room: it turns on when more than
/// <see cref="ThresholdActivate"/> slots per online CPU are free, and off, every CPU's slots given back, below
/// <see cref="ThresholdDeactivate"/> (check_cache_active). The cache's locks (alloc_lock, free_lock) are not modelled:
/// they keep two tasks on one CPU apart, and here a CPU runs one path at a time (a race gives each path a CPU of its
/// own), even where the slot scan lets another CPU run (__try_to_reclaim_swap).
/// </summary>
internal sealed class SwapSlotsCache(SimulationOptions options, Scheduler scheduler) : ISwapSlots, ISnapshotState
{
    /// <summary>SWAP_SLOTS_CACHE_SIZE = SWAP_BATCH.</summary>
    public const int CacheSize = SwapArea.SwapBatch;
    /// <summary>THRESHOLD_ACTIVATE_SWAP_SLOTS_CACHE, per online CPU.</summary>
    public const int ThresholdActivate = 5 * CacheSize;
    /// <summary>THRESHOLD_DEACTIVATE_SWAP_SLOTS_CACHE, per online CPU.</summary>
    public const int ThresholdDeactivate = 2 * CacheSize;

    private readonly int[][] _slots = NewPerCpu(options.Cpus);
    private readonly int[] _nr = new int[options.Cpus], _cur = new int[options.Cpus];
    private readonly int[][] _slotsRet = NewPerCpu(options.Cpus);
    private readonly int[] _nRet = new int[options.Cpus];
    /// <summary>swap_slot_cache_active (swap_slot_cache_enabled is "swap is configured": a design with swap always is).</summary>
    private bool _active;

    private static int[][] NewPerCpu(int cpus) => [.. Enumerable.Range(0, cpus).Select(_ => new int[CacheSize])];

    /// <summary>Slots held by the CPUs' caches, to hand out or to give back (what nr_swap_pages does not count as free).</summary>
    public long Held => _nr.Sum() + _nRet.Sum();

    /// <summary>folio_alloc_swap of an order-0 folio: from this CPU's cache, refilled with a batch when empty; else from the area.</summary>
    public int AllocSwap(SwapArea area)
    {
        int cpu = scheduler.Current.Cpu;
        if (CheckCacheActive(area))
        {
            if (_nr[cpu] == 0 && _active) // refill_swap_slots_cache
            {
                _cur[cpu] = 0;
                _nr[cpu] = area.GetSwapPages(CacheSize, _slots[cpu]);
            }
            if (_nr[cpu] > 0)
            {
                _nr[cpu]--;
                return _slots[cpu][_cur[cpu]++];
            }
        }
        return area.GetOneSwapPage();
    }

    /// <summary>free_swap_slot: into this CPU's return cache, which is given back to the area first when full; straight back while the cache is off.</summary>
    public void FreeSwapSlot(SwapArea area, int slot)
    {
        if (!_active)
        {
            area.EntryFree(slot);
            return;
        }
        int cpu = scheduler.Current.Cpu;
        if (_nRet[cpu] >= CacheSize) GiveBack(area, _slotsRet[cpu], 0, ref _nRet[cpu]);
        _slotsRet[cpu][_nRet[cpu]++] = slot;
    }

    /// <summary>check_cache_active: turn the cache on with enough free slots, off (every CPU's slots given back) with too few.</summary>
    private bool CheckCacheActive(SwapArea area)
    {
        long pages = area.NrSwapPages;
        if (!_active)
        {
            if (pages > options.Cpus * ThresholdActivate) _active = true;
            return _active;
        }
        if (pages < options.Cpus * ThresholdDeactivate)
        {
            _active = false; // deactivate_swap_slots_cache: __drain_swap_slots_cache(SLOTS_CACHE | SLOTS_CACHE_RET)
            for (int cpu = 0; cpu < options.Cpus; cpu++)
            {
                GiveBack(area, _slots[cpu], _cur[cpu], ref _nr[cpu]);
                _cur[cpu] = 0;
                GiveBack(area, _slotsRet[cpu], 0, ref _nRet[cpu]);
            }
        }
        return _active;
    }

    /// <summary>swapcache_free_entries of <paramref name="count"/> slots from <paramref name="from"/>; the count is emptied.</summary>
    private static void GiveBack(SwapArea area, int[] slots, int from, ref int count)
    {
        for (int i = from; i < from + count; i++) area.EntryFree(slots[i]);
        count = 0;
    }

    public object Save() => (Copy(_slots), _nr.Clone(), _cur.Clone(), Copy(_slotsRet), _nRet.Clone(), _active);

    public void Restore(object saved)
    {
        var (slots, nr, cur, slotsRet, nRet, active) = ((int[][], object, object, int[][], object, bool))saved;
        for (int cpu = 0; cpu < _slots.Length; cpu++)
        {
            slots[cpu].CopyTo(_slots[cpu], 0);
            slotsRet[cpu].CopyTo(_slotsRet[cpu], 0);
        }
        ((int[])nr).CopyTo(_nr, 0);
        ((int[])cur).CopyTo(_cur, 0);
        ((int[])nRet).CopyTo(_nRet, 0);
        _active = active;
    }

    private static int[][] Copy(int[][] perCpu) => [.. perCpu.Select(a => (int[])a.Clone())];
}
