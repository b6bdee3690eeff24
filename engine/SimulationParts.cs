using BalloonScript.Engine.Compaction;
using BalloonScript.Engine.Host;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.Sanitizers;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Snapshots;
using BalloonScript.Engine.Virtio;
using BalloonScript.Engine.Vmstat;

namespace BalloonScript.Engine;

/// <summary>The services a <see cref="Simulation"/> façade drives, built by the container of one simulation.</summary>
internal sealed record SimulationParts(
    SimulationOptions Options,
    PageTable Pages,
    Node Node,
    IBuddyAllocator Buddy,
    ICompaction Compaction,
    IVirtioBalloon Balloon,
    IBalloonStats BalloonStats,
    Reclaim.IReclaim Reclaim,
    Swap.SwapArea Swap,
    BalloonHost Host,
    RamBlock Ram,
    LiveMigration LiveMigration,
    Khugepaged Khugepaged,
    Workload.Workload Workload,
    Workload.HighOrderRequests HighOrder,
    Workload.ProcessTable Processes,
    Scheduler Scheduler,
    Time.SimClock Clock,
    FatalSignal Signal,
    Sanitizer Sanitizer,
    PageStateCheck Check,
    BalloonCheck BalloonCheck,
    VmStat VmStat,
    Printk.KernelLog Log,
    ProcText Proc,
    Proc.Meminfo Meminfo,
    Proc.ProcSwaps Swaps,
    PageInspector Inspector,
    Proc.KPageFlags KPageFlags,
    Workload.SeedStream Seeds,
    History History,
    IEnumerable<ISnapshotState> States,
    IServiceProvider Services,
    [field: NotState("a reference: where free page reporting is built, its part is snapshotted as one of States")]
    PageAlloc.V6_1.PageReporting? Reporting = null,
    [field: NotState("a reference: where free page hinting is built, its part is snapshotted as one of States")]
    Virtio.V6_1.FreePageHint? FreePageHint = null,
    [field: NotState("a reference: where PSI is built (6.1), its part is snapshotted as one of States")]
    Psi? Psi = null);
