namespace BalloonScript.Engine.Workload;

/// <summary>
/// The page-table pages under a process's one VMA (x86-64, four levels; the VMA taken as starting on a 512 GiB
/// boundary): a PTE table maps 512 pages (2 MiB), a PMD table 1 GiB, a PUD table 512 GiB. A table exists from the first
/// fault in its range (<c>__pud_alloc</c>, <c>__pmd_alloc</c>, <c>__pte_alloc</c>, top down: v3.16
/// <c>__handle_mm_fault</c>, 6.1 <c>__handle_mm_fault</c> and <c>do_anonymous_page</c>) until munmap leaves no part of
/// the VMA in that range (<c>free_pgd_range</c>'s floor and ceiling: the neighbours' ends bound what is freed) or the
/// process exits (<c>free_pgtables</c>). Zapping a PTE frees no table. The PGD (allocated with the mm) is not here.
/// </summary>
/// <remarks>Invariant: a range's table is <see cref="NoTable"/> or the PFN of the page that holds it, and
/// <see cref="Count"/> of a level is the number of its ranges with a table.</remarks>
internal sealed class ProcessPageTables
{
    /// <summary>The levels, leaf first: PTE, PMD, PUD tables.</summary>
    public const int Levels = 3;
    /// <summary>No table for the range (never faulted, or freed).</summary>
    public const int NoTable = -1;

    private readonly int[][] _table = new int[Levels][];
    /// <summary>Pages of the VMA each range still holds (munmap takes them away one by one).</summary>
    private readonly int[][] _vmaPages = new int[Levels][];
    private readonly long[] _count = new long[Levels];

    public ProcessPageTables(int pages)
    {
        for (int level = 0; level < Levels; level++)
        {
            int shift = Shift(level), ranges = (int)((pages + (1L << shift) - 1) >> shift);
            _table[level] = new int[ranges];
            Array.Fill(_table[level], NoTable);
            _vmaPages[level] = new int[ranges];
            for (int r = 0; r < ranges; r++)
                _vmaPages[level][r] = (int)Math.Min(1L << shift, pages - ((long)r << shift));
        }
    }

    /// <summary>log2 of the pages one table of <paramref name="level"/> maps: 9, 18, 27.</summary>
    public static int Shift(int level) => 9 * (level + 1);

    /// <summary>Tables of <paramref name="level"/> (0: v3.16's <c>mm-&gt;nr_ptes</c>, 6.1's <c>mm_nr_ptes</c>; 1: PMD; 2: PUD).</summary>
    public long Count(int level) => _count[level];

    /// <summary>Every table (6.1's <c>mm_pgtables_bytes</c> / PAGE_SIZE: PTE, PMD and PUD tables).</summary>
    public long Total => _count[0] + _count[1] + _count[2];

    /// <summary>The highest level whose table for virtual page <paramref name="index"/> is missing, or -1 if all exist.</summary>
    public int MissingLevel(int index)
    {
        // A PTE table exists only under its PMD and PUD tables (faults allocate top down; munmap frees a higher table
        // only once its larger range is empty): one look answers for the 511 faults after a range's first.
        if (_table[0][index >> Shift(0)] != NoTable) return -1;
        for (int level = Levels - 1; level >= 0; level--)
            if (_table[level][index >> Shift(level)] == NoTable) return level;
        return -1;
    }

    /// <summary>The table of <paramref name="level"/> for <paramref name="index"/> is now page <paramref name="pfn"/> (pmd_populate and the like).</summary>
    public void Populate(int level, int index, int pfn)
    {
        _table[level][index >> Shift(level)] = pfn;
        _count[level]++;
    }

    /// <summary>
    /// munmap of virtual page <paramref name="index"/>: the VMA no longer holds it; each table whose range it empties
    /// is taken out. Returns their pages by level (<see cref="NoTable"/> where none goes).
    /// </summary>
    public (int Pte, int Pmd, int Pud) Unmap(int index) => (Unmap(0, index), Unmap(1, index), Unmap(2, index));

    private int Unmap(int level, int index)
    {
        int r = index >> Shift(level);
        return --_vmaPages[level][r] == 0 ? Take(level, r) : NoTable;
    }

    /// <summary>exit_mmap's free_pgtables: every table taken out, its level and page added to <paramref name="freed"/>.</summary>
    public void FreeAll(List<(int Level, int Pfn)> freed)
    {
        for (int level = 0; level < Levels; level++)
            for (int r = 0; r < _table[level].Length; r++)
                if (_table[level][r] != NoTable) freed.Add((level, Take(level, r)));
    }

    private int Take(int level, int range)
    {
        int pfn = _table[level][range];
        if (pfn == NoTable) return NoTable;
        _table[level][range] = NoTable;
        _count[level]--;
        return pfn;
    }

    /// <summary>The state a snapshot keeps.</summary>
    public (int[][] Table, int[][] VmaPages, long[] Count) Save() =>
        (_table.Select(t => (int[])t.Clone()).ToArray(), _vmaPages.Select(v => (int[])v.Clone()).ToArray(), (long[])_count.Clone());

    public void Restore((int[][] Table, int[][] VmaPages, long[] Count) saved)
    {
        for (int level = 0; level < Levels; level++)
        {
            saved.Table[level].CopyTo(_table[level], 0);
            saved.VmaPages[level].CopyTo(_vmaPages[level], 0);
        }
        saved.Count.CopyTo(_count, 0);
    }
}
