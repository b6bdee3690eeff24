using BalloonScript.Engine.PageAlloc;

namespace BalloonScript.Engine.Reclaim.V3_16;

/// <summary>struct scan_control (v3.16 mm/vmscan.c) as direct reclaim and kswapd set it up; 6.1's extends it (<see cref="V6_1.ScanControl"/>).</summary>
internal class ScanControl
{
    /// <summary>DEF_PRIORITY: the first pass scans 1/4096 of each list.</summary>
    public const int DefPriority = 12;
    /// <summary>SWAP_CLUSTER_MAX.</summary>
    public const int SwapClusterMax = 32;

    public Gfp GfpMask { get; init; }
    public int Order { get; set; }
    /// <summary>Counts down from <see cref="DefPriority"/>; a pass scans <c>size &gt;&gt; priority</c> of each list.</summary>
    public int Priority { get; set; } = DefPriority;
    public long NrToReclaim { get; set; } = SwapClusterMax;
    public long NrScanned { get; set; }
    public long NrReclaimed { get; set; }
    public bool MayWritepage { get; set; } = true;
    public bool MayUnmap { get; init; } = true;
    public bool MaySwap { get; set; } = true;
    /// <summary>vm_swappiness (default 60).</summary>
    public int Swappiness { get; set; } = 60;
    /// <summary>current_is_kswapd().</summary>
    public bool Kswapd { get; init; }
    /// <summary>reclaim_state.reclaimed_slab: pages the shrinkers freed.</summary>
    public long ReclaimedSlab { get; set; }
}
