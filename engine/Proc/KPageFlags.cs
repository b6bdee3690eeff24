using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Mm;

namespace BalloonScript.Engine.Proc;

/// <summary>
/// /proc/kpageflags: fs/proc/page.c <c>stable_page_flags</c> (v3.16; KPF_BALLOON from v3.18, the redesign's
/// PageBalloon; every page of a free block KPF_BUDDY from 4.6; a swap-cache page KPF_OWNER_PRIVATE too from 4.10) for
/// every PFN, with the bit numbers of include/uapi/linux/kernel-page-flags.h, so tools written for the kernel's
/// page-types can read them.
/// </summary>
internal sealed class KPageFlags(PageTable pages, SimulationOptions options)
{
    public const int Locked = 0, Error = 1, Referenced = 2, Uptodate = 3, Dirty = 4, Lru = 5, Active = 6, Slab = 7,
        Writeback = 8, Reclaim = 9, Buddy = 10, Mmap = 11, Anon = 12, SwapCache = 13, SwapBacked = 14,
        CompoundHead = 15, CompoundTail = 16, Unevictable = 18, Balloon = 23, Pgtable = 26,
        Reserved = 32, Mlocked = 33, MappedToDisk = 34, Private = 35, Private2 = 36, OwnerPrivate = 37, Arch = 38;

    // KPF bit for each v3.16 PG_ bit that stable_page_flags copies (kpf_copy_bit); -1 = not exported.
    private static readonly int[] CopiedBit =
    [
        Locked, Error, Referenced, Uptodate, Dirty, Lru, Active, Slab, OwnerPrivate, Arch, Reserved, Private, Private2,
        Writeback, -1, -1, SwapCache, MappedToDisk, Reclaim, SwapBacked, Unevictable, Mlocked,
    ];

    /// <summary>The copied KPF bits of each value of each byte of page-&gt;flags (<see cref="CopiedBit"/> a byte at a time).</summary>
    private static readonly ulong[] CopiedByByte = BuildCopiedByByte();

    /// <summary>KPF_BALLOON exists from v3.18 (with PageBalloon); the legacy design's kernel has no such bit.</summary>
    private readonly bool _balloonBit = options.Design.Parts.BalloonIdentity != PartVersion.V3_16;

    /// <summary>
    /// From 4.6 ("/proc/kpageflags: return KPF_BUDDY for "tail" buddy pages", posted to linux-mm on 4 February 2016
    /// against 4.5-rc2-mmotm; read in a 4.8-era fs/proc/page.c) a page with no references inside a free block is
    /// KPF_BUDDY too (is_free_buddy_page), not only the block's first page.
    /// </summary>
    private readonly bool _freeBlockTails = KernelVersion(options) >= new Version(4, 6);

    /// <summary>
    /// From 4.10 ("mm: Use owner_priv bit for PageSwapCache, valid when PageSwapBacked", posted 21 December 2016; 6.1.78's
    /// page-flags.h has it) PG_swapcache is PG_owner_priv_1: a swap-cache page shows both bits.
    /// </summary>
    private readonly bool _swapCacheIsOwnerPriv = KernelVersion(options) >= new Version(4, 10);

    /// <summary>
    /// From 4.18 ("proc: export PageTable", with the PageTable page type) a page that holds a page table is
    /// KPF_PGTABLE (6.1.78's fs/proc/page.c has it); the model knows those pages by their <see cref="PageKind.PageTable"/>.
    /// </summary>
    private readonly bool _pgtableBit = KernelVersion(options) >= new Version(4, 18);

    /// <summary>The version the design models (<see cref="Designs.KernelDesign.Kernel"/>: "v3.16" … "v6.1").</summary>
    private static Version KernelVersion(SimulationOptions options) => Version.Parse(options.Design.Kernel.TrimStart('v'));

    /// <summary>stable_page_flags of every PFN (the page arrays read as spans: a whole guest at a few nanoseconds a page).</summary>
    public ulong[] All()
    {
        ReadOnlySpan<uint> flags = pages.Flags.AsSpan();
        ReadOnlySpan<int> mapCount = pages.MapCount.AsSpan(), mapping = pages.Mapping.AsSpan();
        ReadOnlySpan<byte> kind = pages.Kind.AsSpan();
        ulong pgtable = _pgtableBit ? 1UL << Pgtable : 0;
        var kpf = new ulong[flags.Length];
        for (int pfn = 0; pfn < kpf.Length; pfn++)
            kpf[pfn] = StablePageFlags(flags[pfn], mapCount[pfn], mapping[pfn]) | (kind[pfn] == (byte)PageKind.PageTable ? pgtable : 0);
        if (_freeBlockTails)
            for (int pfn = 0; pfn < kpf.Length; pfn++)
            {
                if (!PageTable.IsBuddy(mapCount[pfn])) continue;
                int end = Math.Min(kpf.Length, pfn + (1 << pages.PageOrder(pfn)));
                for (int tail = pfn + 1; tail < end; tail++) kpf[tail] |= 1UL << Buddy; // a free block's pages have no references
                pfn = end - 1;
            }
        return kpf;
    }

    /// <summary>stable_page_flags(page) of one PFN.</summary>
    public ulong Of(int pfn)
    {
        ulong u = StablePageFlags(pages.Flags[pfn], pages.MapCount[pfn], pages.Mapping[pfn]);
        if (_freeBlockTails && pages.Count[pfn] == 0 && IsFreeBuddyPage(pfn)) u |= 1UL << Buddy;
        if (_pgtableBit && pages.Kind[pfn] == (byte)PageKind.PageTable) u |= 1UL << Pgtable;
        return u;
    }

    /// <summary>is_free_buddy_page (4.6): some order's aligned head at or below the page is PageBuddy with at least that order.</summary>
    private bool IsFreeBuddyPage(int pfn)
    {
        for (int order = 0; order < Zone.MaxOrder; order++)
        {
            int head = pfn & ~((1 << order) - 1);
            if (PageTable.IsBuddy(pages.MapCount[head]) && pages.PageOrder(head) >= order) return true;
        }
        return false;
    }

    /// <summary>stable_page_flags of a page with these flags, _mapcount and mapping.</summary>
    private ulong StablePageFlags(uint k, int mapCount, int mapping)
    {
        ulong u = CopiedByByte[k & 0xFF] | CopiedByByte[256 + ((k >> 8) & 0xFF)] | CopiedByByte[512 + ((k >> 16) & 0xFF)];
        if ((k & (uint)PG.Slab) == 0 && PageTable.IsMapped(mapCount)) u |= 1UL << Mmap; // slab overloads _mapcount
        if (PageTable.IsAnon(mapping)) u |= 1UL << Anon;
        if ((k & (uint)PG.Head) != 0) u |= 1UL << CompoundHead;
        if ((k & (uint)PG.Tail) != 0) u |= 1UL << CompoundTail;
        if (PageTable.IsBuddy(mapCount)) u |= 1UL << Buddy;
        if (_balloonBit && PageTable.IsBalloon(mapCount)) u |= 1UL << Balloon;
        if (_swapCacheIsOwnerPriv && (k & (uint)PG.SwapCache) != 0) u |= 1UL << OwnerPrivate;
        return u;
    }

    private static ulong[] BuildCopiedByByte()
    {
        // StablePageFlags looks up the low three bytes of page->flags: every copied bit must lie in them.
        if (CopiedBit.Length > 3 * 8) throw new InvalidOperationException($"{CopiedBit.Length} copied PG_ bits: StablePageFlags reads 24");
        var table = new ulong[3 * 256];
        for (int bit = 0; bit < CopiedBit.Length; bit++)
            if (CopiedBit[bit] >= 0)
                for (int value = 0; value < 256; value++)
                    if ((value & (1 << (bit % 8))) != 0) table[(bit / 8) * 256 + value] |= 1UL << CopiedBit[bit];
        return table;
    }
}
