using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Snapshots;

namespace BalloonScript.Engine.Host;

/// <summary>
/// The host memory behind the guest's RAM (QEMU's RAMBlock of anonymous memory, no preallocation; read in QEMU's
/// hw/virtio/virtio-balloon.c of 5.1 and later, the versions with free page reporting): which guest frames the host has
/// backed with a page. A frame is backed when the guest first writes it (the EPT violation, and the host's fault that
/// maps a zeroed page in) and stays backed until the host discards it (<c>ram_block_discard_range</c>: QEMU's
/// <c>balloon_inflate_page</c> for an inflated frame, <c>virtio_balloon_handle_report</c> for a reported block). A deflated
/// frame stays discarded: QEMU's <c>balloon_deflate_page</c> only advises MADV_WILLNEED, which maps nothing in for
/// anonymous memory, so the guest's next write faults (QEMU of the v3.x kernels' time did the same in one function,
/// <c>balloon_page</c>: MADV_DONTNEED on inflation, MADV_WILLNEED on deflation). A <see cref="Refaults"/> is such a fault on a frame the host had
/// discarded: the price, paid later, of memory given back. The guest writes a frame when it puts data there (an anonymous
/// fault's zeroing, a file or swap read, a THP's clearing, a page table's zeroing, a migration's copy into it); allocating
/// a frame, or putting it in the balloon, writes nothing.
/// <para>
/// With host THP (<see cref="SimulationOptions.HostThp"/>: QEMU madvises guest RAM MADV_HUGEPAGE, and the host's THP is
/// on), the host's fault in a 2 MiB-aligned region it maps nothing of (<c>pmd_none</c>) maps a transparent huge page
/// (<c>do_huge_pmd_anonymous_page</c>, always successful here): one fault backs the region's 512 frames. A discard of
/// part of a huge page splits its PMD (<c>split_huge_pmd</c>) and leaves a page table of 4 KiB entries, faulted 4 KiB at a
/// time from then on (MADV_DONTNEED never frees a page table); a discard of the whole aligned 2 MiB frees the huge page
/// (<c>zap_huge_pmd</c>) and the region can be mapped huge again. The host's khugepaged (<see cref="Khugepaged"/>) collapses a
/// split region back into a huge page (<see cref="HpageCollapseScanPmd"/>), backing its holes with zeros. A split huge
/// page's unmapped frames stay in memory (<see cref="DeferredSplitPages"/>: the resident count drops at the discard, as
/// the process's RSS does) until the huge page's last mapping goes, a collapse replaces it, or the deferred split frees
/// them: at the host's <c>drop_caches</c>, or when QEMU's memory cgroup reaches its limit (below).
/// </para>
/// <para>
/// With <see cref="SimulationOptions.HostMemoryMaxMib"/> QEMU runs in a memory cgroup (v2) whose memory.max is that
/// limit: every page the host allocates behind guest RAM is charged to it (<see cref="TryChargeMemcg"/>, 6.1's
/// <c>try_charge_memcg</c>), and a charge past the limit reclaims in the cgroup first. Without host swap and with no
/// other memory charged, the cgroup's reclaim frees only what the deferred-split queue holds. Only guest RAM's pages are
/// charged here (not the host's page tables, KVM's accounted memory, QEMU's own, or the per-CPU stock), and the limit is
/// at least the guest's RAM, so in this model a fault's page always fits once the queue is split (a huge page's region,
/// or the 4 KiB frame, is not resident): no fault falls back for want of a charge, and QEMU is never OOM-killed. A
/// khugepaged collapse can fail (SCAN_CGROUP_CHARGE_FAIL): its new huge page is charged while the region's old pages
/// still are.
/// </para>
/// <para>
/// Invariants: <see cref="ResidentPages"/> is the number of frames in state <see cref="Backed"/> or <see cref="Zeroed"/>; with host THP, a region
/// mapped huge has every frame backed, and a region the host maps nothing of has none; a region's count of mapped subpages
/// is the number of its frames whose subpage bit is set, and <see cref="DeferredSplitPages"/> is the sum, over the regions
/// whose huge page is alive, of its unmapped subpages; the memory charged to QEMU's cgroup (<see cref="MemoryCurrent"/>)
/// is their sum, never above memory.max. The model's guest boots with all its memory free
/// (MemFree = MemTotal: no kernel image, memory map or reserved memory is modelled), so nothing is backed at boot. For
/// partial-order reduction each frame's state is recorded by PFN (as <c>struct page</c>), a region's mapping by the PFN
/// of its first frame, the counts as shared values.
/// </para>
/// <para>
/// While a live migration runs, the host logs the guest's writes in KVM's dirty log, which QEMU's
/// <c>memory_global_dirty_log_start</c> turns on as QEMU does where the host kernel offers
/// KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 with KVM_DIRTY_LOG_INITIALLY_SET (the semantics read in the KVM API text and QEMU's
/// ram.c; which QEMU and Linux versions first did so is not read here): every frame starts dirty and
/// writable; a write sets its frame's bit (a write to a frame still dirty sets nothing new); a bitmap sync
/// (<see cref="SyncDirtyLog"/>, KVM_GET_DIRTY_LOG) reads the bits without clearing them; and the migration clears them
/// later, a chunk at a time, just before it sends (or skips) a frame of the chunk (<see cref="ClearDirtyLog"/>,
/// KVM_CLEAR_DIRTY_LOG: only the bits the last read returned, which write-protects those frames again). A discard writes
/// nothing and sets none.
/// </para>
/// </summary>
internal sealed class RamBlock(PageTable pages, Scheduler scheduler, SimulationOptions options) : ISnapshotState
{
    /// <summary>HPAGE_PMD_ORDER on x86-64: a host huge page maps 2^9 frames.</summary>
    public const int HpageOrder = 9;

    private const int HpageFrames = 1 << HpageOrder;

    /// <summary>
    /// A frame's state: never written since boot, backed by a host page the guest wrote, discarded by the host, or backed
    /// by a huge page the host zeroed (when the guest wrote another frame of it, or khugepaged collapsed its region) and not
    /// written since (it reads as zeros: a migration sends it as a zero page).
    /// </summary>
    private const byte Untouched = 0, Backed = 1, Discarded = 2, Zeroed = 3;

    /// <summary>How the host maps a 2 MiB region (its PMD entry): nothing, a huge page, or a page table of 4 KiB entries.</summary>
    private const byte PmdNone = 0, PmdHuge = 1, PmdTable = 2;

    private readonly bool _thp = options.HostThp;

    /// <summary>QEMU's cgroup's memory.max in pages (<see cref="SimulationOptions.HostMemoryMaxMib"/>), or long.MaxValue: "max".</summary>
    private readonly long _memoryMax = options.HostMemoryMaxMib is { } mib ? mib * 256 : long.MaxValue;

    /// <summary>Whether a limit is set: unlimited, a fault charges nothing and reads no shared count (races explore without it).</summary>
    private bool Limited => _memoryMax != long.MaxValue;

    /// <summary>
    /// How many times a charge that does not fit reclaims, each after a MEMCG_MAX event, before it fails: try_charge_memcg's
    /// first try, its retry after drain_all_stock, and MAX_RECLAIM_RETRIES (16) more (6.1; the reclaim frees nothing after
    /// the first, which splits the whole queue).
    /// </summary>
    private const int ChargeReclaims = 2 + 16;

    private readonly byte[] _state = new byte[pages.NrPages];

    /// <summary>Per 2 MiB region (the last one may be partial, and is never mapped huge); all <see cref="PmdNone"/> without host THP, unused.</summary>
    private readonly byte[] _pmd = new byte[(pages.NrPages + HpageFrames - 1) >> HpageOrder];

    /// <summary>Per 2 MiB region: how many of its frames map a subpage of the huge page faulted or collapsed there (0: none is alive).</summary>
    private readonly short[] _thpMapped = new short[(pages.NrPages + HpageFrames - 1) >> HpageOrder];

    /// <summary>A bit per frame: it maps a subpage of its region's huge page (not a 4 KiB page of its own).</summary>
    private readonly ulong[] _subpage = new ulong[(pages.NrPages + 63) >> 6];

    /// <summary>
    /// [<see cref="ResidentIndex"/>, <see cref="FaultsIndex"/>, <see cref="RefaultsIndex"/>, <see cref="HugeIndex"/>,
    /// <see cref="SplitsIndex"/>, <see cref="LoggingIndex"/>, <see cref="DeferredIndex"/>, <see cref="MemcgMaxIndex"/>].
    /// </summary>
    private readonly SharedArray _counts = new(scheduler, 8);
    private const int ResidentIndex = 0, FaultsIndex = 1, RefaultsIndex = 2, HugeIndex = 3, SplitsIndex = 4, LoggingIndex = 5, DeferredIndex = 6,
        MemcgMaxIndex = 7;

    /// <summary>KVM's dirty log: a bit per frame dirty (written since its bit was last cleared), kept only while logging.</summary>
    private readonly ulong[] _dirty = new ulong[(pages.NrPages + 63) >> 6];

    /// <summary>What the last read of the log returned and no clear has cleared yet (QEMU's copy in its KVMSlot).</summary>
    private readonly ulong[] _lastRead = new ulong[(pages.NrPages + 63) >> 6];

    /// <summary>Guest frames backed by host memory now: what the guest's RAM adds to QEMU's resident set.</summary>
    public long ResidentPages => _counts[ResidentIndex];

    /// <summary>Host faults on the guest's first write of a frame not backed (never written, or discarded); a huge page's fault is one.</summary>
    public long Faults => _counts[FaultsIndex];

    /// <summary>Of <see cref="Faults"/>, those on frames the host had discarded (inflated, or reported, then reused).</summary>
    public long Refaults => _counts[RefaultsIndex];

    /// <summary>2 MiB regions of guest RAM the host maps with a huge page now (host THP only).</summary>
    public long HugePages => _counts[HugeIndex];

    /// <summary>Huge pages split by a discard of part of them (host THP only).</summary>
    public long ThpSplits => _counts[SplitsIndex];

    /// <summary>
    /// Frames discarded from a huge page that is still alive (split, some of its subpages still mapped): the host no longer
    /// maps them, but their memory stays with the huge page until its deferred split, which only the host's memory
    /// pressure brings (host THP only).
    /// </summary>
    public long DeferredSplitPages => _counts[DeferredIndex];

    /// <summary>The pages charged to QEMU's memory cgroup for guest RAM (its memory.current, in pages): resident and held.</summary>
    public long MemoryCurrent => ResidentPages + DeferredSplitPages;

    /// <summary>QEMU's cgroup's memory.max in pages, or -1 for none ("max").</summary>
    public long MemoryMax => Limited ? _memoryMax : -1;

    /// <summary>memory.events' max: how many times a charge found the cgroup at its limit (a MEMCG_MAX event each, then reclaim).</summary>
    public long MemcgMaxEvents => _counts[MemcgMaxIndex];

    /// <summary>Whether the host backs <paramref name="pfn"/> now.</summary>
    public bool IsBacked(int pfn)
    {
        if (StepAccesses.Compiled) scheduler.Accesses?.Read(pfn);
        return _state[pfn] is Backed or Zeroed;
    }

    /// <summary>Whether the host backs <paramref name="pfn"/> with a page the guest wrote (one that may not read as zeros).</summary>
    public bool HoldsData(int pfn)
    {
        if (StepAccesses.Compiled) scheduler.Accesses?.Read(pfn);
        return _state[pfn] == Backed;
    }

    /// <summary>
    /// Frames the host backs among those <paramref name="ballooned"/> marks (its ledger of ballooned frames): none without
    /// host THP; with it, a huge page faulted in next to ballooned frames the host never backed backs them too.
    /// </summary>
    public long BackedAmong(ReadOnlySpan<bool> ballooned)
    {
        if (StepAccesses.Compiled) scheduler.Accesses?.Global();
        long n = 0;
        for (int pfn = 0; pfn < _state.Length; pfn++)
            if (ballooned[pfn] && _state[pfn] is Backed or Zeroed) n++;
        return n;
    }

    /// <summary>What <see cref="Map"/> says of a frame: never written, backed by a 4 KiB page, backed by a huge page, discarded.</summary>
    public const byte MapUntouched = 0, MapBacked = 1, MapHuge = 2, MapDiscarded = 3;

    /// <summary>Every frame's state as the host sees it (<see cref="MapUntouched"/> ... <see cref="MapDiscarded"/>), a fresh array.</summary>
    public byte[] Map()
    {
        if (StepAccesses.Compiled) scheduler.Accesses?.Global();
        var map = new byte[_state.Length];
        for (int pfn = 0; pfn < map.Length; pfn++)
            map[pfn] = _state[pfn] switch
            {
                Backed or Zeroed => _pmd[pfn >> HpageOrder] == PmdHuge ? MapHuge : MapBacked,
                Discarded => MapDiscarded,
                _ => MapUntouched,
            };
        return map;
    }

    /// <summary>Whether the host maps the 2 MiB region holding <paramref name="pfn"/> with a huge page now.</summary>
    public bool IsMappedHuge(int pfn)
    {
        if (StepAccesses.Compiled) scheduler.Accesses?.Read(pfn & ~(HpageFrames - 1));
        return _pmd[pfn >> HpageOrder] == PmdHuge;
    }

    /// <summary>
    /// The guest writes the <paramref name="n"/> frames from <paramref name="pfn"/>: those not backed fault in; while the
    /// dirty log is on, each is logged.
    /// </summary>
    public void Write(int pfn, int n = 1)
    {
        bool logging = Logging;
        for (int end = pfn + n; pfn < end; pfn++)
        {
            if (StepAccesses.Compiled) scheduler.Accesses?.Write(pfn);
            if (logging) _dirty[pfn >> 6] |= 1UL << pfn;
            byte state = _state[pfn];
            if (state == Backed) continue;
            if (state == Zeroed)
            {
                _state[pfn] = Backed; // mapped already: no fault
                continue;
            }
            _counts.Add(FaultsIndex, 1);
            if (state == Discarded) _counts.Add(RefaultsIndex, 1);
            if (_thp) FaultRegion(pfn);
            else
            {
                if (Limited) ChargeFault(pfn, 1); // out of line: the fault path without a limit pays one test
                Back(pfn);
            }
        }
    }

    /// <summary>
    /// A fault's charge (do_anonymous_page's 4 KiB page, __do_huge_pmd_anonymous_page's huge page): in this model it fits
    /// once the reclaim has split the queue, since only guest RAM is charged, memory.max is at least the guest's RAM, and
    /// what faults in is not resident.
    /// </summary>
    private void ChargeFault(int pfn, int nrPages)
    {
        if (!TryChargeMemcg(nrPages))
            throw new InvalidOperationException($"the host's memory cgroup could not charge the fault at pfn {pfn} ({nrPages} " +
                "pages): memory.max is at least the guest's RAM, so a fault's pages fit once the deferred-split queue is split");
    }

    /// <summary>
    /// try_charge_memcg (6.1 mm/memcontrol.c) of <paramref name="nrPages"/> to QEMU's cgroup, with reclaim allowed (the
    /// huge page fault's GFP_TRANSHUGE_LIGHT | __GFP_DIRECT_RECLAIM for a MADV_HUGEPAGE range under the default defrag
    /// setting, madvise; khugepaged's GFP_TRANSHUGE with its defrag on, the default; a 4 KiB fault's GFP_KERNEL): a
    /// charge past memory.max counts a MEMCG_MAX event and runs try_to_free_mem_cgroup_pages, then tries again,
    /// <see cref="ChargeReclaims"/> times at most. That reclaim runs its priorities from 12 to 0 over the cgroup: no swap,
    /// so no anonymous page is reclaimed, and shrink_slab_memcg calls the deferred-split shrinker, whose scan at priority
    /// 0 covers twice its count, so the whole queue is split. Simplified: the per-CPU charge stock (MEMCG_CHARGE_BATCH,
    /// 64 pages charged ahead) is not modelled, so the limit is met exactly when the pages in use reach it. Only with a
    /// limit (<see cref="Limited"/>).
    /// </summary>
    private bool TryChargeMemcg(int nrPages)
    {
        for (int reclaims = 0; MemoryCurrent + nrPages > _memoryMax; reclaims++)
        {
            if (reclaims == ChargeReclaims) return false;
            _counts.Add(MemcgMaxIndex, 1); // memcg_memory_event(mem_over_limit, MEMCG_MAX)
            if (DeferredSplitPages != 0) DeferredSplitScan(); // deferred_split_count: 0 for an empty queue, nothing scanned
        }
        return true;
    }

    /// <summary>
    /// The host's fault on <paramref name="pfn"/> with host THP: a huge page if the host maps nothing of its whole
    /// 2 MiB region, else a 4 KiB page under the region's page table.
    /// </summary>
    private void FaultRegion(int pfn)
    {
        int region = pfn >> HpageOrder, head = region << HpageOrder;
        if (StepAccesses.Compiled) scheduler.Accesses?.Write(head);
        if (_pmd[region] != PmdNone || head + HpageFrames > _state.Length)
        {
            if (Limited) ChargeFault(pfn, 1);
            _pmd[region] = PmdTable;
            Back(pfn);
            return;
        }
        if (Limited) ChargeFault(pfn, HpageFrames);
        _pmd[region] = PmdHuge;
        _counts.Add(HugeIndex, 1);
        for (int f = head; f < head + HpageFrames; f++)
        {
            if (StepAccesses.Compiled) scheduler.Accesses?.Write(f);
            Back(f, f == pfn ? Backed : Zeroed); // none was backed: the region mapped nothing
        }
        NewHugePage(region);
        _hugeFaulted?.Invoke(); // do_huge_pmd_anonymous_page's khugepaged_enter_vma
    }

    [NotState("wiring: the host's khugepaged, which registers QEMU's mm at its first huge fault, set when it is built")]
    private Action? _hugeFaulted;

    /// <summary>What a huge page fault calls (khugepaged_enter_vma: the mm joins khugepaged's list if it has not yet).</summary>
    public void OnHugeFault(Action enter) => _hugeFaulted = enter;

    /// <summary>A new huge page maps the whole region: every frame a subpage of it.</summary>
    private void NewHugePage(int region)
    {
        _thpMapped[region] = HpageFrames;
        Array.Fill(_subpage, ulong.MaxValue, (region << HpageOrder) >> 6, HpageFrames >> 6);
    }

    /// <summary>
    /// A subpage of <paramref name="pfn"/>'s huge page is no longer mapped (zap_pte_range's page_remove_rmap): its memory
    /// stays with the huge page (deferred_split_huge_page queues it) unless it was the huge page's last mapping, which
    /// frees the huge page and every subpage held with it.
    /// </summary>
    private void UnmapSubpage(int pfn)
    {
        _subpage[pfn >> 6] &= ~(1UL << pfn);
        int region = pfn >> HpageOrder;
        if (--_thpMapped[region] > 0) _counts.Add(DeferredIndex, 1);
        else _counts.Add(DeferredIndex, -(HpageFrames - 1));
    }

    /// <summary>
    /// The region's huge page holds no frame any more: freed (a collapse copied it) or split for good (a deferred split:
    /// its mapped subpages become pages of their own, its unmapped ones are freed).
    /// </summary>
    private void ReleaseHugePage(int region)
    {
        int mapped = _thpMapped[region];
        if (mapped == 0) return;
        _counts.Add(DeferredIndex, -(HpageFrames - mapped));
        _thpMapped[region] = 0;
        Array.Clear(_subpage, (region << HpageOrder) >> 6, HpageFrames >> 6);
    }

    private void Back(int pfn, byte state = Backed)
    {
        _state[pfn] = state;
        _counts.Add(ResidentIndex, 1);
    }

    /// <summary>
    /// ram_block_discard_range over the <paramref name="n"/> frames from <paramref name="pfn"/> (MADV_DONTNEED): a
    /// backed frame's page is freed; a frame never written has nothing to free and stays as it was. A huge page the range
    /// covers whole is freed; one it covers in part is split first.
    /// </summary>
    public void Discard(int pfn, int n = 1)
    {
        for (int end = pfn + n; pfn < end; pfn++)
        {
            if (_thp) UnmapHuge(pfn, end);
            if (StepAccesses.Compiled) scheduler.Accesses?.Write(pfn);
            if (_state[pfn] is not (Backed or Zeroed)) continue;
            _state[pfn] = Discarded;
            _counts.Add(ResidentIndex, -1);
            if ((_subpage[pfn >> 6] & (1UL << pfn)) != 0) UnmapSubpage(pfn);
        }
    }

    /// <summary>zap_pmd_range's huge case (mm/memory.c, the same in the hosts of v3.x and 6.x) for a discard from
    /// <paramref name="pfn"/> to <paramref name="end"/>: free the huge page (zap_huge_pmd; its frames are then discarded one
    /// by one) if the range covers its region (next - addr == HPAGE_PMD_SIZE), else split it (__split_huge_pmd).</summary>
    private void UnmapHuge(int pfn, int end)
    {
        int region = pfn >> HpageOrder, head = region << HpageOrder;
        if (StepAccesses.Compiled) scheduler.Accesses?.Write(head);
        if (_pmd[region] != PmdHuge) return;
        _counts.Add(HugeIndex, -1);
        bool whole = pfn == head && end - head >= HpageFrames;
        _pmd[region] = whole ? PmdNone : PmdTable;
        if (!whole) _counts.Add(SplitsIndex, 1); // (zap_huge_pmd's page goes as the discard unmaps its last frame)
    }

    /// <summary>The 2 MiB regions wholly inside guest RAM: those khugepaged scans (its VMA's hstart to hend).</summary>
    public int WholeRegions => _state.Length >> HpageOrder;

    /// <summary>What <see cref="HpageCollapseScanPmd"/> found (the kernel's enum scan_result, the cases this host meets).</summary>
    public enum ScanResult { Succeed, PmdNone, PmdMapped, ExceedNonePte, CgroupChargeFail }

    /// <summary>
    /// hpage_collapse_scan_pmd and collapse_huge_page (6.1.78 mm/khugepaged.c) on the host's mapping of
    /// <paramref name="region"/>: nothing mapped (SCAN_PMD_NONE) or a huge page (SCAN_PMD_MAPPED) is left alone; a page
    /// table with more than <paramref name="maxPtesNone"/> empty entries (frames never written or discarded) is too
    /// (SCAN_EXCEED_NONE_PTE, counted at the first entry past the limit). Otherwise the region is collapsed: a new huge
    /// page, charged to QEMU's cgroup while the old pages still are (alloc_charge_hpage; SCAN_CGROUP_CHARGE_FAIL if it
    /// does not fit), the frames mapped copied into it, the empty ones zeroed, so every frame is backed again. The scan's other
    /// conditions hold for the guest's RAM here: every mapped frame is writable (the guest's write faulted it in) and
    /// young (KVM sees the guest's accesses, and no host reclaim clears the bits), none is shared or swapped, and the huge
    /// page allocation succeeds.
    /// </summary>
    public ScanResult HpageCollapseScanPmd(int region, int maxPtesNone)
    {
        int head = region << HpageOrder;
        if (StepAccesses.Compiled) scheduler.Accesses?.Write(head);
        if (_pmd[region] == PmdNone) return ScanResult.PmdNone;
        if (_pmd[region] == PmdHuge) return ScanResult.PmdMapped;
        int none = 0;
        for (int f = head; f < head + HpageFrames; f++)
        {
            if (StepAccesses.Compiled) scheduler.Accesses?.Read(f);
            if (_state[f] is (Untouched or Discarded) && ++none > maxPtesNone) return ScanResult.ExceedNonePte;
        }
        if (Limited && !TryChargeMemcg(HpageFrames)) return ScanResult.CgroupChargeFail;
        for (int f = head; f < head + HpageFrames; f++)
        {
            if (StepAccesses.Compiled) scheduler.Accesses?.Write(f);
            if (_state[f] is (Untouched or Discarded)) Back(f, Zeroed); // __collapse_huge_page_copy: clear_user_highpage
        }
        _pmd[region] = PmdHuge;
        _counts.Add(HugeIndex, 1);
        ReleaseHugePage(region); // the old huge page's mapped subpages were copied: it is freed
        NewHugePage(region);
        return ScanResult.Succeed;
    }

    /// <summary>
    /// deferred_split_scan over the whole deferred-split queue, as the host's drop_caches runs it (drop_slab calls every
    /// shrinker; 6.1's deferred_split_shrinker) and as a charge's reclaim in QEMU's cgroup does: each huge page a discard
    /// split that still holds unmapped frames is split for good (split_huge_page), which frees them. Returns the frames
    /// freed.
    /// </summary>
    public long DeferredSplitScan()
    {
        if (StepAccesses.Compiled) scheduler.Accesses?.Global();
        long held = DeferredSplitPages;
        for (int region = 0; region < _thpMapped.Length; region++)
            if (_thpMapped[region] is not (0 or HpageFrames)) ReleaseHugePage(region); // none, or mapped whole: not on the queue
        return held - DeferredSplitPages;
    }

    /// <summary>Whether the dirty log is on (a migration runs).</summary>
    public bool Logging => _counts[LoggingIndex] != 0;

    /// <summary>memory_global_dirty_log_start (every frame dirty: KVM_DIRTY_LOG_INITIALLY_SET) / _stop (the log off).</summary>
    public void SetDirtyLog(bool on)
    {
        if (StepAccesses.Compiled) scheduler.Accesses?.Global();
        Array.Fill(_dirty, on ? ulong.MaxValue : 0);
        if (on && (_state.Length & 63) != 0) _dirty[^1] = (1UL << (_state.Length & 63)) - 1;
        Array.Clear(_lastRead);
        _counts.Set(LoggingIndex, on ? 1 : 0);
    }

    /// <summary>
    /// The bitmap sync's read of the dirty log (KVM_GET_DIRTY_LOG with manual protection, then QEMU's
    /// <c>cpu_physical_memory_sync_dirty_bitmap</c>): the dirty frames are set in <paramref name="bitmap"/>; the log keeps
    /// them until <see cref="ClearDirtyLog"/>. Returns how many were not set in the bitmap already.
    /// </summary>
    public long SyncDirtyLog(ulong[] bitmap)
    {
        if (StepAccesses.Compiled) scheduler.Accesses?.Global();
        long added = 0;
        for (int w = 0; w < _dirty.Length; w++)
        {
            added += System.Numerics.BitOperations.PopCount(_dirty[w] & ~bitmap[w]);
            bitmap[w] |= _dirty[w];
            _lastRead[w] = _dirty[w];
        }
        return added;
    }

    /// <summary>
    /// KVM_CLEAR_DIRTY_LOG over the frames [<paramref name="start"/>, <paramref name="end"/>) (<paramref name="start"/> a
    /// multiple of 64), as QEMU's <c>kvm_log_clear_one_slot</c> asks: the bits the last read returned are cleared (those
    /// frames are write-protected again, so their next write is logged); a frame written since that read keeps its bit.
    /// </summary>
    public void ClearDirtyLog(int start, int end)
    {
        if (StepAccesses.Compiled) scheduler.Accesses?.Global();
        for (int w = start >> 6; w < (end + 63) >> 6; w++)
        {
            _dirty[w] &= ~_lastRead[w];
            _lastRead[w] = 0;
        }
    }

    /// <summary>
    /// The guest now runs on the migration's destination, whose RAM holds only what the migration wrote there: each frame
    /// in <paramref name="sent"/> (a page sent with its data) is written, faulting in as on any host (a huge page where the
    /// host has THP and the region is still unmapped); a zero page or a frame never sent leaves the destination's frame
    /// untouched. The counts start again, the destination's own.
    /// </summary>
    public void MoveToDestination(ulong[] sent)
    {
        if (StepAccesses.Compiled) scheduler.Accesses?.Global();
        Array.Clear(_state);
        Array.Clear(_pmd);
        Array.Clear(_thpMapped);
        Array.Clear(_subpage);
        for (int i = 0; i < _counts.Length; i++) _counts.Set(i, 0);
        Array.Clear(_dirty);
        Array.Clear(_lastRead);
        for (int pfn = 0; pfn < _state.Length; pfn++)
            if ((sent[pfn >> 6] & (1UL << pfn)) != 0) Write(pfn);
    }

    /// <summary>
    /// <see cref="DeferredSplitPages"/> counted again from the subpage bits, or -1 if a region's count of mapped subpages
    /// is not its bits' (for the tests' invariant checks).
    /// </summary>
    internal long RecountDeferredSplitPages()
    {
        long held = 0;
        for (int region = 0; region < _thpMapped.Length; region++)
        {
            int head = region << HpageOrder, mapped = 0;
            for (int f = head; f < Math.Min(head + HpageFrames, _state.Length); f++)
                if ((_subpage[f >> 6] & (1UL << f)) != 0) mapped++;
            if (mapped != _thpMapped[region]) return -1;
            if (mapped > 0) held += HpageFrames - mapped;
        }
        return held;
    }

    public object Save() =>
        ((byte[])_state.Clone(), (byte[])_pmd.Clone(), _counts.Save(), (ulong[])_dirty.Clone(), (ulong[])_lastRead.Clone(),
            (short[])_thpMapped.Clone(), (ulong[])_subpage.Clone());

    public void Restore(object saved)
    {
        var (state, pmd, counts, dirty, lastRead, thpMapped, subpage) = ((byte[], byte[], long[], ulong[], ulong[], short[], ulong[]))saved;
        state.CopyTo(_state, 0);
        pmd.CopyTo(_pmd, 0);
        thpMapped.CopyTo(_thpMapped, 0);
        subpage.CopyTo(_subpage, 0);
        _counts.Restore(counts);
        dirty.CopyTo(_dirty, 0);
        lastRead.CopyTo(_lastRead, 0);
    }
}
