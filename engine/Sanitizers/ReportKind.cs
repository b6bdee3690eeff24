namespace BalloonScript.Engine.Sanitizers;

/// <summary>Kinds of sanitizer finding; <see cref="ReportKinds.Name"/> gives the name Python sees.</summary>
public enum ReportKind
{
    /// <summary>KASAN: a read through a pointer to the wrong object type, or to a freed object.</summary>
    Kasan,
    /// <summary>CONFIG_DEBUG_LIST check failed, or a poisoned list pointer was followed.</summary>
    ListCorruption,
    /// <summary>bad_page(): a page freed or allocated in a state the allocator's checks reject.</summary>
    BadPage,
    /// <summary>A page nobody owns: not free, not on any list, no owner will ever free it.</summary>
    PageLeak,
    /// <summary>A page in the balloon that lost its balloon identity and can never be migrated again.</summary>
    BalloonUnmovable,
    /// <summary>The host's ledger of ballooned frames disagrees with the guest.</summary>
    HostMismatch,
    /// <summary>A VM_BUG_ON / BUG() condition, or a simulated deadlock.</summary>
    VmBug,
    /// <summary>A content token lost or duplicated: data was not moved as migration must move it.</summary>
    DataCorruption,
    /// <summary>Page accounting broken: a PFN in no state or two, or NR_FREE_PAGES ≠ Σ nr_free·2^order.</summary>
    Accounting,
    /// <summary>balloon_dev_info.isolated_pages stays above zero with no page isolated.</summary>
    IsolatedPages,
}

/// <summary>Python-facing names of <see cref="ReportKind"/>.</summary>
public static class ReportKinds
{
    public static string Name(ReportKind kind) => kind switch
    {
        ReportKind.Kasan => "kasan",
        ReportKind.ListCorruption => "list_corruption",
        ReportKind.BadPage => "bad_page",
        ReportKind.PageLeak => "page_leak",
        ReportKind.BalloonUnmovable => "balloon_unmovable",
        ReportKind.HostMismatch => "host_mismatch",
        ReportKind.VmBug => "vm_bug",
        ReportKind.DataCorruption => "data_corruption",
        ReportKind.Accounting => "accounting",
        ReportKind.IsolatedPages => "isolated_pages",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };
}
