using BalloonScript.Engine.Mm;

namespace BalloonScript.Engine;

/// <summary>
/// Whether a guest fits in this machine's memory, asked before anything is built: the engine keeps its state in
/// arrays indexed by PFN, so a guest costs about <see cref="BytesPerPage"/> bytes per simulated page, and a guest
/// larger than the memory available would otherwise die half-built (or take the machine into swap).
/// </summary>
internal static class GuestMemoryBudget
{
    /// <summary>
    /// The engine's bytes per simulated page: the struct page fields (<see cref="PageTable"/>) and the lru links
    /// (<see cref="PageLists"/>), the host's ledger, its RAM block and the balloon check's marks (a byte each), the page
    /// map a caller copies out, the host's dirty log and its last read and a live migration's two bitmaps (a bit each, a byte together),
    /// and the workload's candidate list while it frees (an int, with List growth slack, and the chosen pfns).
    /// </summary>
    public const int BytesPerPage = PageTable.BytesPerPage + PageLists.BytesPerPage + 1 + 1 + 1 + 1 + 1 + 2 * sizeof(int) + sizeof(int);

    /// <summary>Bytes available to a new simulation, as <see cref="Available"/> measures it; tests set a figure here instead.</summary>
    internal static long? FakeAvailableBytes { get; set; }

    /// <summary>ArgumentException naming memory_mib if a guest of <paramref name="options"/>' size needs more memory than is available.</summary>
    public static void CheckFits(SimulationOptions options)
    {
        long needed = options.NrPages * (long)BytesPerPage;
        long available = FakeAvailableBytes ?? Available();
        Check.That(needed <= available, "memory_mib",
            $"a {options.MemoryMib} MiB guest needs about {Mib(needed)} MiB of memory for the simulator ({BytesPerPage} bytes per simulated page), " +
            $"but this machine has {Mib(available)} MiB available; choose a smaller memory_mib");
    }

    /// <summary>MemAvailable of /proc/meminfo where there is one, capped by what the GC may use (a container's limit).</summary>
    private static long Available()
    {
        long gcLimit = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        const string meminfo = "/proc/meminfo";
        if (!File.Exists(meminfo)) return gcLimit;
        foreach (string line in File.ReadLines(meminfo))
            if (line.StartsWith("MemAvailable:", StringComparison.Ordinal)
                && long.TryParse(line["MemAvailable:".Length..].Trim().Split(' ')[0], out long kib))
                return Math.Min(gcLimit, kib * 1024);
        return gcLimit;
    }

    private static long Mib(long bytes) => (bytes + (1 << 20) - 1) >> 20;
}
