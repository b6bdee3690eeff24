namespace BalloonScript.Engine.PageAlloc;

/// <summary>The gfp bits the simulator acts on (v3.16 include/linux/gfp.h), and the usual combinations.</summary>
[Flags]
internal enum Gfp : uint
{
    None = 0,
    HighMem = 1 << 1,
    /// <summary>__GFP_HIGH: the caller is high priority (ALLOC_HIGH: half below the watermark).</summary>
    High = 1 << 5,
    Movable = 1 << 3,
    /// <summary>__GFP_WAIT: the caller can sleep, so the slow path may compact.</summary>
    Wait = 1 << 4,
    Io = 1 << 6,
    Fs = 1 << 7,
    NoWarn = 1 << 9,
    /// <summary>__GFP_REPEAT: try hard, but may fail (retry while less than 2^order was reclaimed).</summary>
    Repeat = 1 << 10,
    /// <summary>__GFP_NOFAIL: retry for ever.</summary>
    NoFail = 1 << 11,
    NoRetry = 1 << 12,
    Comp = 1 << 14,
    /// <summary>__GFP_ZERO: the page comes back cleared (no state of its own here; it shows in printed masks).</summary>
    Zero = 1 << 15,
    NoMemAlloc = 1 << 16,
    /// <summary>__GFP_HARDWALL: enforce the cpuset memory allocation policy (single node here: no effect).</summary>
    HardWall = 1 << 17,
    Reclaimable = 1 << 19,
    /// <summary>__GFP_NOTRACK (v3.16: kmemcheck does not track the page; gone in 4.15).</summary>
    NoTrack = 1 << 21,
    NoKswapd = 1 << 22,
    /// <summary>
    /// __GFP_ATOMIC (6.1): the caller cannot reclaim and is high priority (ALLOC_HARDER). v3.16 read atomicity off the
    /// absence of __GFP_WAIT instead; its bit (0x200 in 6.1) is __GFP_NOWARN's in v3.16, so it sits above those here.
    /// </summary>
    Atomic = 1 << 24,
    /// <summary>__GFP_ACCOUNT (4.5 on, 0x400000 in 6.1): charge the page to the memory cgroup (none here). No v3.16 bit.</summary>
    Account = 1 << 25,

    Kernel = Wait | Io | Fs,
    /// <summary>GFP_USER = GFP_KERNEL | __GFP_HARDWALL.</summary>
    User = Kernel | HardWall,
    HighUser = User | HighMem,
    HighUserMovable = HighUser | Movable,
    /// <summary>GFP_PGTABLE_USER (5.8 on): GFP_KERNEL | __GFP_ZERO | __GFP_ACCOUNT, a user page table's mask.</summary>
    PgtableUser = Kernel | Zero | Account,
    /// <summary>GFP_TRANSHUGE: what a THP fault asks for.</summary>
    TransHuge = HighUserMovable | Comp | NoMemAlloc | NoRetry | NoWarn | NoKswapd,
}

internal static class GfpExtensions
{
    /// <summary>
    /// gfp_zone() on x86-64 (no ZONE_HIGHMEM; GFP_ZONE_TABLE of include/linux/gfp.h): ZONE_MOVABLE (3) for
    /// __GFP_HIGHMEM | __GFP_MOVABLE, else ZONE_NORMAL (2; OPT_ZONE_HIGHMEM is ZONE_NORMAL without CONFIG_HIGHMEM) — no
    /// request here asks for __GFP_DMA or __GFP_DMA32. A kernel zone index: the zone need not exist.
    /// </summary>
    public static int ZoneIdx(this Gfp gfp) => (gfp & (Gfp.HighMem | Gfp.Movable)) == (Gfp.HighMem | Gfp.Movable) ? 3 : 2;

    /// <summary>allocflags_to_migratetype(): Movable → 2, Reclaimable → 1, else 0.</summary>
    public static int MigrateType(this Gfp gfp) =>
        (((gfp & Gfp.Movable) != 0 ? 1 : 0) << 1) | ((gfp & Gfp.Reclaimable) != 0 ? 1 : 0);
}
