using BalloonScript.Engine.Mm;

namespace BalloonScript.Engine.PageAlloc;

/// <summary>
/// The per-cpu page lists of a page allocator version (<c>zone-&gt;per_cpu_pageset</c>) as the whole-memory checks, the
/// page inspector and /proc/zoneinfo see them. Registered only with <see cref="SimulationOptions.PerCpuLists"/>.
/// </summary>
internal interface IPerCpuPages
{
    int Cpus { get; }

    /// <summary>Every PFN on some CPU's lists of <paramref name="zone"/> (each page of a high-order entry).</summary>
    IEnumerable<int> PagesOf(Zone zone);

    /// <summary><c>pcp-&gt;count</c>, <c>pcp-&gt;high</c>, <c>pcp-&gt;batch</c> of <paramref name="zone"/> on <paramref name="cpu"/>.</summary>
    (int Count, int High, int Batch) Pageset(Zone zone, int cpu);

    /// <summary>The pages the lists of <paramref name="zone"/> on <paramref name="cpu"/> hold, counted by walking them.</summary>
    long ListedPages(Zone zone, int cpu);

    /// <summary>The name of <paramref name="head"/> if it is one of these lists (as the page inspector prints it), else null.</summary>
    string? ListName(int head);
}
