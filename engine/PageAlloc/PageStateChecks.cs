using System.Numerics;
using System.Runtime.CompilerServices;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sanitizers;

namespace BalloonScript.Engine.PageAlloc;

/// <summary>
/// free_pages_check / check_new_page and bad_page of mm/page_alloc.c, with the reason texts of one kernel version
/// (page_bad_reason: v3.16 says "nonzero _count", 6.1 "nonzero _refcount"). Each test that fails overwrites the
/// reason, so the last one wins (mapcount, mapping, count, flags); a bad page is reported and its mapcount reset.
/// </summary>
internal sealed class PageStateChecks(PageTable pages, Sanitizer sanitizer, string countReason, string freeFlagsReason, string prepFlagsReason)
{
    /// <summary>free_pages_check: a page being freed has no mapcount, mapping, reference or PAGE_FLAGS_CHECK_AT_FREE flag.</summary>
    public bool FreePageOk(int pfn) => PageStateOk(pfn, PG.CheckAtFree, freeFlagsReason);

    /// <summary>check_new_page: a page being handed out has nothing of the above nor a PAGE_FLAGS_CHECK_AT_PREP flag.</summary>
    public bool NewPageOk(int pfn) => PageStateOk(pfn, PG.CheckAtPrep, prepFlagsReason);

    /// <summary>
    /// free_pages_prepare: a head page with a tag bit in its mapping loses it (v3.16 tests PageAnon, v4.8 and 6.1
    /// PageMappingFlags — bda807d44454, for non-LRU movable pages; the same test before v4.8, where nothing sets
    /// PAGE_MAPPING_MOVABLE), then every page is checked; if any is bad the block
    /// is not freed (the kernel leaks it too). Otherwise the pages become free: no kind, no content, no flags. A block
    /// of whole chunks leaves them <see cref="PageChanges.Clean"/>; a chunk still clean from its last free is so already.
    /// </summary>
    public bool FreePagesPrepare(int pfn, int order)
    {
        if ((pages.Mapping[pfn] & MappingTable.PageMappingFlags) != 0) pages.Mapping[pfn] = 0;
        if (order != 0) return FreeBlockPrepare(pfn, 1 << order);
        if (!FreePageOk(pfn)) return false;
        ClearPages(pfn, 1);
        return true;
    }

    // Out of line: the order-0 paths that inline FreePagesPrepare (put_page, free_hot_cold_page) stay within the JIT's
    // inlining budget, so that their list operations are inlined too.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool FreeBlockPrepare(int pfn, int n)
    {
        if (!AllPagesClean(pfn, n, PG.CheckAtFree))
        {
            int bad = 0;
            for (int p = pfn; p < pfn + n; p++)
                if (!FreePageOk(p)) bad++;
            if (bad > 0) return false;
        }
        if (n < PageChanges.ChunkPages) ClearPages(pfn, n);
        else
        {
            for (int c = pfn; c < pfn + n; c += PageChanges.ChunkPages)
                if (!pages.Changes.IsClean(c >> PageChanges.ChunkOrder)) ClearPages(c, PageChanges.ChunkPages);
            pages.Changes.SetClean(pfn, n);
        }
        return true;
    }

    /// <summary>
    /// What free_pages_prepare leaves in a page it passed: no kind, no content, no flags. A single page that never held data
    /// (a balloon or slab page) keeps its content 0 unwritten: its host memory may still be the kernel's zero page, mapped
    /// by a check's read, and writing the same 0 would copy it (<see cref="HostMemory"/>).
    /// </summary>
    private void ClearPages(int pfn, int n)
    {
        pages.Kind.Fill((byte)PageKind.Free, pfn, n);
        if (n > 1 || pages.Content[pfn] != 0) pages.Content.Fill(0, pfn, n);
        pages.Flags.Fill(0, pfn, n);
    }

    /// <summary>
    /// prep_new_page: check_new_page on each page of the block, stopping at the first bad one (the kernel leaks the
    /// block and tries another); then <c>_count</c> 1 and <c>private</c> 0 on the first page.
    /// </summary>
    public bool PrepNewPage(int pfn, int order)
    {
        if (order == 0 ? !NewPageOk(pfn) : !NewBlockOk(pfn, 1 << order)) return false;
        pages.Private[pfn] = 0;
        pages.Count[pfn] = 1;
        return true;
    }

    /// <summary>check_new_page on each page of a high-order block (out of line, as <see cref="FreeBlockPrepare"/>).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool NewBlockOk(int pfn, int n)
    {
        if (!AllPagesClean(pfn, n, PG.CheckAtPrep))
            for (int p = pfn; p < pfn + n; p++)
                if (!NewPageOk(p)) return false;
        return true;
    }

    /// <summary>
    /// prep_compound_page (from prep_new_page for __GFP_COMP): PG_head on the first page, PG_tail and <c>_count</c> 0 on
    /// the others; the order is kept in the first tail page (set_compound_order).
    /// </summary>
    public void PrepCompoundPage(int page, int order)
    {
        pages.Set(page, PG.Head);
        for (int p = page + 1; p < page + (1 << order); p++) pages.Set(p, PG.Tail);
        pages.Private[page + 1] = order;
    }

    /// <summary>
    /// Every one of <paramref name="n"/> pages from <paramref name="pfn"/> would pass <see cref="PageStateOk"/> (no
    /// <paramref name="badFlags"/>, _count 0, no mapping, _mapcount -1): a chunk marked <see cref="PageChanges.Clean"/>
    /// does (free_pages_prepare passed and cleared each of its pages, and none was written since); the others' columns
    /// are searched at once, so a high-order block costs a few vector passes, not 512 checks; false sends the caller to
    /// the page-by-page checks, which report.
    /// </summary>
    private bool AllPagesClean(int pfn, int n, PG badFlags)
    {
        if (n < PageChanges.ChunkPages) return ColumnsClean(pfn, n, badFlags);
        for (int c = pfn; c < pfn + n; c += PageChanges.ChunkPages)
            if (!pages.Changes.IsClean(c >> PageChanges.ChunkOrder) && !ColumnsClean(c, PageChanges.ChunkPages, badFlags)) return false;
        return true;
    }

    /// <summary><see cref="AllPagesClean"/> by searching the columns.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // its vector loop is slow until the JIT optimises it: no tier-0 phase
    private bool ColumnsClean(int pfn, int n, PG badFlags)
    {
        if (pages.Count.AsSpan().Slice(pfn, n).ContainsAnyExcept(0) || pages.Mapping.AsSpan().Slice(pfn, n).ContainsAnyExcept(0)
            || pages.MapCount.AsSpan().Slice(pfn, n).ContainsAnyExcept(-1)) return false;
        var flags = pages.Flags.AsSpan().Slice(pfn, n);
        var any = Vector<uint>.Zero;
        int i = 0;
        for (; i + Vector<uint>.Count <= n; i += Vector<uint>.Count) any |= new Vector<uint>(flags[i..]);
        uint bits = 0;
        for (int lane = 0; lane < Vector<uint>.Count; lane++) bits |= any[lane];
        for (; i < n; i++) bits |= flags[i];
        return (bits & (uint)badFlags) == 0;
    }

    private bool PageStateOk(int pfn, PG badFlags, string flagsReason)
    {
        string? reason = null;
        if (pages.MapCount[pfn] != -1) reason = "nonzero mapcount";
        if (pages.Mapping[pfn] != 0) reason = "non-NULL mapping";
        if (pages.Count[pfn] != 0) reason = countReason;
        if ((pages.Flags[pfn] & (uint)badFlags) != 0) reason = flagsReason;
        if (reason is null) return true;
        BadPage(pfn, reason);
        return false;
    }

    /// <summary>bad_page: report the page (dump_page_badflags fields), then page_mapcount_reset.</summary>
    private void BadPage(int pfn, string reason)
    {
        sanitizer.Report(ReportKind.BadPage, pfn,
            $"BUG: Bad page state pfn:{pfn:x5}: page dumped because: {reason} (count:{pages.Count[pfn]} mapcount:{pages.MapCount[pfn] + 1} mapping:{pages.Mapping[pfn]:x} index:{pages.Index[pfn]:x} flags:{pages.Flags[pfn]:x})");
        pages.MapCount[pfn] = -1;
    }
}
