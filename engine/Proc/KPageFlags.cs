using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Mm;

namespace BalloonScript.Engine.Proc;

/// <summary>
/// /proc/kpageflags: fs/proc/page.c <c>stable_page_flags</c> (v3.16; KPF_BALLOON from v3.18, the redesign's
/// PageBalloon) for every PFN, with the bit numbers of include/uapi/linux/kernel-page-flags.h, so tools written for
/// the kernel's page-types can read them.
/// </summary>
internal sealed class KPageFlags(PageTable pages, SimulationOptions options)
{
    public const int Locked = 0, Error = 1, Referenced = 2, Uptodate = 3, Dirty = 4, Lru = 5, Active = 6, Slab = 7,
        Writeback = 8, Reclaim = 9, Buddy = 10, Mmap = 11, Anon = 12, SwapCache = 13, SwapBacked = 14,
        CompoundHead = 15, CompoundTail = 16, Unevictable = 18, Balloon = 23,
        Reserved = 32, Mlocked = 33, MappedToDisk = 34, Private = 35, Private2 = 36, OwnerPrivate = 37, Arch = 38;

    // KPF bit for each v3.16 PG_ bit that stable_page_flags copies (kpf_copy_bit); -1 = not exported.
    private static readonly int[] CopiedBit =
    [
        Locked, Error, Referenced, Uptodate, Dirty, Lru, Active, Slab, OwnerPrivate, Arch, Reserved, Private, Private2,
        Writeback, -1, -1, SwapCache, MappedToDisk, Reclaim, SwapBacked, Unevictable, Mlocked,
    ];

    /// <summary>KPF_BALLOON exists from v3.18 (with PageBalloon); the legacy design's kernel has no such bit.</summary>
    private readonly bool _balloonBit = options.Design.Parts.BalloonIdentity != PartVersion.V3_16;

    public ulong[] All()
    {
        var flags = new ulong[pages.NrPages];
        for (int pfn = 0; pfn < flags.Length; pfn++) flags[pfn] = Of(pfn);
        return flags;
    }

    /// <summary>stable_page_flags(page) of one PFN.</summary>
    public ulong Of(int pfn)
    {
        uint k = pages.Flags[pfn];
        ulong u = 0;
        if ((k & (uint)PG.Slab) == 0 && pages.PageMapped(pfn)) u |= 1UL << Mmap;
        if (pages.PageAnon(pfn)) u |= 1UL << Anon;
        if ((k & (uint)PG.Head) != 0) u |= 1UL << CompoundHead;
        if ((k & (uint)PG.Tail) != 0) u |= 1UL << CompoundTail;
        if (pages.PageBuddy(pfn)) u |= 1UL << Buddy;
        if (_balloonBit && pages.PageBalloon(pfn)) u |= 1UL << Balloon;
        for (int bit = 0; bit < CopiedBit.Length; bit++)
            if (CopiedBit[bit] >= 0 && (k & (1u << bit)) != 0) u |= 1UL << CopiedBit[bit];
        return u;
    }
}
