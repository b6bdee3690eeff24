using BalloonScript.Engine.Mm;

namespace BalloonScript.Engine.PageAlloc;

/// <summary>
/// The per-cpu page lists of a page allocator version (<c>zone-&gt;per_cpu_pageset</c>) as the whole-memory checks, the
/// page inspector and /proc/zoneinfo see them. Registered only with <see cref="SimulationOptions.PerCpuLists"/>.
/// </summary>
internal interface IPerCpuPages
{
    int Cpus { get; }

    /// <summary><c>pcp-&gt;lists</c> of <paramref name="zone"/> on <paramref name="cpu"/>: each list head and the order of its entries.</summary>
    (int Head, int Order)[] Lists(Zone zone, int cpu);

    /// <summary><c>pcp-&gt;count</c>, <c>pcp-&gt;high</c>, <c>pcp-&gt;batch</c> of <paramref name="zone"/> on <paramref name="cpu"/>.</summary>
    (int Count, int High, int Batch) Pageset(Zone zone, int cpu);

    /// <summary>The name of <paramref name="head"/> if it is one of these lists (as the page inspector prints it), else null.</summary>
    string? ListName(int head);
}
