namespace BalloonScript.Engine.Workload;

/// <summary>
/// A user process of the workload, at the level reclaim and the OOM killer see it (task_struct and mm_struct,
/// v3.16): one anonymous mapping of <see cref="Ptes"/>.Length pages, its page table, and the mm counters
/// <c>MM_ANONPAGES</c> and <c>MM_SWAPENTS</c>.
/// </summary>
internal sealed class Process(int pid, string comm, int anonVma, int pages)
{
    /// <summary>A page-table entry that maps nothing (never faulted in, or unmapped).</summary>
    public const int None = int.MinValue;

    public int Pid { get; } = pid;
    /// <summary><c>current-&gt;comm</c>.</summary>
    public string Comm { get; } = comm;
    /// <summary>The anon_vma handle its pages carry in <c>page-&gt;mapping</c> (with PAGE_MAPPING_ANON).</summary>
    public int AnonVma { get; } = anonVma;

    /// <summary>
    /// The page table of its one VMA, per virtual page: a PFN (&gt;= 0), a swap entry (-1 - slot), or <see cref="None"/>.
    /// Reverse mapping finds an anon page's entry through <c>page-&gt;index</c>.
    /// </summary>
    public int[] Ptes { get; } = Fill(pages);

    /// <summary>MM_ANONPAGES: resident anonymous pages.</summary>
    public long AnonRss { get; set; }
    /// <summary>MM_SWAPENTS: swap entries in its page table.</summary>
    public long SwapEnts { get; set; }
    /// <summary><c>signal-&gt;oom_score_adj</c>, [-1000, 1000].</summary>
    public int OomScoreAdj { get; set; }
    /// <summary>TIF_MEMDIE: chosen by the OOM killer, exiting.</summary>
    public bool MemDie { get; set; }
    /// <summary>Its mm has been torn down (exit_mmap): nothing left to free.</summary>
    public bool Exited { get; set; }

    /// <summary><c>mm-&gt;nr_ptes</c>: page-table pages for its VMA (512 entries each).</summary>
    public long NrPtes => (Ptes.Length + 511) / 512;

    /// <summary><c>mm-&gt;total_vm</c> in pages.</summary>
    public long TotalVm => Ptes.Length;

    public static int SwapEntry(int slot) => -1 - slot;
    public static bool IsSwapEntry(int pte) => pte < 0 && pte != None;
    public static int SwapSlot(int pte) => -1 - pte;

    private static int[] Fill(int pages)
    {
        var ptes = new int[pages];
        Array.Fill(ptes, None);
        return ptes;
    }
}
