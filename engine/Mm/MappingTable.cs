using BalloonScript.Engine.Migrate;
using BalloonScript.Engine.Sanitizers;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Snapshots;

namespace BalloonScript.Engine.Mm;

/// <summary>Which <c>a_ops-&gt;migratepage</c> an address_space has.</summary>
internal enum MigratePageOp : byte
{
    /// <summary>No migratepage: fallback_migrate_page.</summary>
    None = 0,
    /// <summary>migrate_page / buffer_migrate_page: copy the page, move the page-cache slot.</summary>
    Generic = 1,
    /// <summary>A driver's own function (the pre-v3.18 balloon's <c>virtio_balloon_aops</c>, v4.8's <c>balloon_aops</c>), stored with the mapping.</summary>
    Driver = 2,
}

/// <summary>What a mapping handle points at.</summary>
internal enum MappingObject : byte
{
    Freed = 0,
    AddressSpace = 1,
    AnonVma = 2,
}

/// <summary>
/// The objects <c>page-&gt;mapping</c> can point to: <c>struct address_space</c> (page cache, the pre-v3.18
/// balloon's fake mapping) and <c>struct anon_vma</c>. A handle is <c>id &lt;&lt; 2 | low bits</c>, like a
/// pointer whose bit 0 is PAGE_MAPPING_ANON. Reading <c>address_space</c> fields through a handle that is an
/// anon_vma, has the ANON bit, or was freed is what KASAN catches in the kernel: here it is a <c>kasan</c>
/// report and an arbitrary (seeded) value, never a C# exception.
/// </summary>
internal sealed partial class MappingTable : ISnapshotState
{
    public const int PageMappingAnon = 1;

    /// <summary>PAGE_MAPPING_MOVABLE (v4.8 page-flags.h): a non-LRU movable page's mapping carries this tag.</summary>
    public const int PageMappingMovable = 2;

    /// <summary>PAGE_MAPPING_FLAGS (v4.8): both tag bits; PageMappingFlags() tests them.</summary>
    public const int PageMappingFlags = PageMappingAnon | PageMappingMovable;

    /// <summary>
    /// <c>swapper_spaces</c>: what <c>page_mapping()</c> returns for a page in the swap cache. A fixed handle outside
    /// the table, whose <c>a_ops-&gt;migratepage</c> is migrate_page.
    /// </summary>
    public const int SwapperSpace = int.MaxValue & ~3;

    /// <summary>AS_BALLOON_MAP = __GFP_BITS_SHIFT + 4 (v3.8–v3.17 include/linux/pagemap.h).</summary>
    public const int AsBalloonMap = 25 + 4;

    private readonly List<MappingObject> _kind = [MappingObject.Freed]; // id 0 is NULL
    private readonly List<ulong> _flags = [0];
    private readonly List<int> _privateData = [0];
    private readonly List<MigratePageOp> _migratePage = [MigratePageOp.None];
    [NotState("the drivers' functions, wired when they probe (at construction); a restore keeps them and pads the table with null")]
    private readonly List<IDriverMigratePage?> _driverMigratePage = [null];
    [NotState("the drivers' a_ops of non-LRU movable pages, wired when they probe (at construction); a restore keeps them and pads the table with null")]
    private readonly List<IMovableMappingOps?> _movableOps = [null];
    private readonly Sanitizer _sanitizer;
    private readonly SeededRandom _garbage;

    public MappingTable(Sanitizer sanitizer, SimulationOptions options)
    {
        _sanitizer = sanitizer;
        _garbage = new SeededRandom(unchecked((int)options.Seed) ^ 0x6b61736e);
    }

    /// <summary>A new <c>address_space</c>; returns its handle (ANON bit clear).</summary>
    public int NewAddressSpace(ulong flags = 0, int privateData = 0, MigratePageOp migratePage = MigratePageOp.Generic) =>
        migratePage == MigratePageOp.Driver
            ? throw new ArgumentException("a driver's migratepage comes with NewDriverAddressSpace", nameof(migratePage))
            : New(MappingObject.AddressSpace, flags, privateData, migratePage, null);

    /// <summary>A new <c>address_space</c> whose <c>a_ops-&gt;migratepage</c> is a driver's function.</summary>
    public int NewDriverAddressSpace(ulong flags, int privateData, IDriverMigratePage migratePage) =>
        New(MappingObject.AddressSpace, flags, privateData, MigratePageOp.Driver, migratePage);

    /// <summary>
    /// A new <c>address_space</c> whose a_ops are a driver's <c>isolate_page</c> / <c>putback_page</c> /
    /// <c>migratepage</c> for non-LRU movable pages (v4.8: the balloon inode's <c>i_mapping</c> with balloon_aops).
    /// </summary>
    public int NewMovableAddressSpace(IMovableMappingOps ops)
    {
        int handle = New(MappingObject.AddressSpace, 0, 0, MigratePageOp.Driver, ops);
        _movableOps[^1] = ops;
        return handle;
    }

    /// <summary>A new <c>anon_vma</c>; returns the handle as stored in <c>page-&gt;mapping</c> (ANON bit set).</summary>
    public int NewAnonVma() => New(MappingObject.AnonVma, 0, 0, MigratePageOp.None, null) | PageMappingAnon;

    public void Free(int handle) => _kind[handle >> 2] = MappingObject.Freed;

    public MappingObject KindOf(int handle) =>
        handle == 0 ? MappingObject.Freed : handle == SwapperSpace ? MappingObject.AddressSpace : At(_kind, handle, MappingObject.Freed);

    /// <summary>
    /// The entry of <paramref name="table"/> for <paramref name="handle"/>; <paramref name="none"/> for a handle beyond
    /// the table (a wild pointer a corrupted <c>page-&gt;mapping</c> holds: as a freed object, no C# exception).
    /// </summary>
    private static T At<T>(List<T> table, int handle, T none) => (uint)(handle >> 2) < (uint)table.Count ? table[handle >> 2] : none;

    /// <summary>
    /// <c>mapping-&gt;flags</c> read through a raw <c>page-&gt;mapping</c> value. Legal only for a live
    /// address_space handle without the ANON bit; anything else is a KASAN report and returns garbage.
    /// </summary>
    public ulong ReadFlags(int handle, int pfn)
    {
        if (handle == 0)
        {
            _sanitizer.Report(ReportKind.Kasan, pfn, "BUG: unable to handle kernel NULL pointer dereference reading address_space->flags");
            return 0;
        }
        var kind = At(_kind, handle, MappingObject.Freed);
        if ((handle & 3) == 0 && kind == MappingObject.AddressSpace) return _flags[handle >> 2];
        string what = kind switch
        {
            MappingObject.AnonVma => "an anon_vma (PAGE_MAPPING_ANON set) read as struct address_space",
            MappingObject.Freed => "a freed address_space (use-after-free)",
            _ => "a tagged pointer read as struct address_space",
        };
        _sanitizer.Report(ReportKind.Kasan, pfn,
            $"BUG: AddressSanitizer: {(kind == MappingObject.Freed ? "use-after-free" : "out-of-bounds")} read of size 8: page->mapping->flags of {what}");
        return (ulong)_garbage.NextInt64();
    }

    /// <summary><c>mapping-&gt;private_data</c> of a live address_space (the balloon device).</summary>
    public int PrivateData(int handle) => At(_privateData, handle, 0);

    /// <summary>The mapping's <c>a_ops-&gt;migratepage</c>.</summary>
    public MigratePageOp MigratePage(int handle) => handle == SwapperSpace ? MigratePageOp.Generic : At(_migratePage, handle, MigratePageOp.None);

    /// <summary>
    /// The a_ops of a live address_space with <c>isolate_page</c> (what v4.8's <c>PageMovable()</c> asks for), or null:
    /// a mapping without one, or a handle that is no live address_space.
    /// </summary>
    public IMovableMappingOps? MovableOps(int handle) =>
        handle != 0 && (handle & PageMappingFlags) == 0 && At(_kind, handle, MappingObject.Freed) == MappingObject.AddressSpace ? _movableOps[handle >> 2] : null;

    /// <summary>Call the driver's <c>a_ops-&gt;migratepage</c> of a <see cref="MigratePageOp.Driver"/> mapping; -EAGAIN for any other.</summary>
    [Preemptible]
    public int CallDriverMigratePage(int handle, int newpage, int page, MigrateMode mode) =>
        At(_driverMigratePage, handle, null) is { } driver ? driver.MigratePage(newpage, page, mode) : MigrateRc.EAgain;

    public object Save() => new Saved([.. _kind], [.. _flags], [.. _privateData], [.. _migratePage], _garbage.Save());

    public void Restore(object saved)
    {
        var s = (Saved)saved;
        Overwrite(_kind, s.Kind);
        Overwrite(_flags, s.Flags);
        Overwrite(_privateData, s.PrivateData);
        Overwrite(_migratePage, s.MigratePage);
        Fit(_driverMigratePage, s.Kind.Length);
        Fit(_movableOps, s.Kind.Length);
        _garbage.Restore(s.Garbage);
    }

    /// <summary>Cut a table of functions wired at construction to <paramref name="length"/> entries, or pad it with null.</summary>
    private static void Fit<T>(List<T?> list, int length) where T : class
    {
        if (list.Count > length) list.RemoveRange(length, list.Count - length);
        while (list.Count < length) list.Add(null);
    }

    private static void Overwrite<T>(List<T> list, T[] saved)
    {
        list.Clear();
        list.AddRange(saved);
    }

    private sealed record Saved(MappingObject[] Kind, ulong[] Flags, int[] PrivateData, MigratePageOp[] MigratePage, object Garbage);

    private int New(MappingObject kind, ulong flags, int privateData, MigratePageOp migratePage, IDriverMigratePage? driverMigratePage)
    {
        _driverMigratePage.Add(driverMigratePage);
        _movableOps.Add(null);
        _kind.Add(kind);
        _flags.Add(flags);
        _privateData.Add(privateData);
        _migratePage.Add(migratePage);
        return (_kind.Count - 1) << 2;
    }
}
