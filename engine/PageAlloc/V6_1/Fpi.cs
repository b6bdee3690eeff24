namespace BalloonScript.Engine.PageAlloc.V6_1;

/// <summary>
/// <c>fpi_t</c> (6.1 mm/page_alloc.c, the same bits): how __free_one_page files a freed block. FPI_SKIP_KASAN_POISON
/// (bit 2) is not modelled.
/// </summary>
[Flags]
internal enum Fpi
{
    None = 0,
    /// <summary>FPI_SKIP_REPORT_NOTIFY: do not tell free page reporting (the block comes back from a report).</summary>
    SkipReportNotify = 1 << 0,
    /// <summary>FPI_TO_TAIL: to the tail of its free list (memory onlining at boot, a reported block put back).</summary>
    ToTail = 1 << 1,
}
