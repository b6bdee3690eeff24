using BalloonScript.Engine.Swap;

namespace BalloonScript.Engine.Proc;

/// <summary>
/// /proc/swaps (mm/swapfile.c <c>swap_show</c>) as the design's kernel prints it: the header, then one line for the
/// guest's swap area when it has one: its path padded to 40 columns, "partition", its usable size and the slots in use
/// (<c>inuse_pages</c>, 6.1's per-CPU slots caches' slots included) in kB, and the priority swapon gave an area without
/// one. The area is taken as <see cref="Path"/>, a second virtio-blk disk (the guest's first holding its root).
/// </summary>
internal abstract class ProcSwaps(SwapArea swap)
{
    /// <summary>The swap area's device.</summary>
    public const string Path = "/dev/vdb";

    /// <summary>The header line, as the version's swap_show prints it for SEQ_START_TOKEN.</summary>
    protected abstract string Header { get; }

    /// <summary>The priority of the first area swapped on without one: --least_priority.</summary>
    protected abstract int FirstPriority { get; }

    /// <summary>The size and used columns and what separates them, as the version prints them.</summary>
    protected abstract string SizeAndUsed(long sizeKb, long usedKb);

    public string Text()
    {
        if (swap.TotalSwapPages == 0) return Header;
        return $"{Header}{Path}{new string(' ', Math.Max(40 - Path.Length, 1))}partition\t{SizeAndUsed(swap.TotalSwapPages * 4, swap.InUse * 4)}\t{FirstPriority}\n";
    }
}
