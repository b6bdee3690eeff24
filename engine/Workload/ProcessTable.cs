namespace BalloonScript.Engine.Workload;

/// <summary>The workload's processes (for_each_process), found from a page through its anon_vma.</summary>
internal sealed class ProcessTable
{
    /// <summary>The first pid given to a workload process (below are init and the kernel threads).</summary>
    public const int FirstPid = 1000;

    private readonly List<Process> _all = [];
    private readonly Dictionary<int, Process> _byAnonVma = [];

    public IReadOnlyList<Process> All => _all;

    /// <summary>The process whose fault the running kernel path serves (<c>current</c> for the allocator and the OOM killer), or null.</summary>
    public Process? Current { get; set; }

    public Process Spawn(string comm, int anonVma, int pages)
    {
        var p = new Process(FirstPid + _all.Count, comm, anonVma, pages);
        _all.Add(p);
        _byAnonVma.Add(anonVma, p);
        return p;
    }

    /// <summary>The process whose anonymous pages carry <paramref name="anonVma"/> (with or without the ANON bit), or null.</summary>
    public Process? OwnerOf(int anonVma) => _byAnonVma.GetValueOrDefault(anonVma | Mm.MappingTable.PageMappingAnon);
}
