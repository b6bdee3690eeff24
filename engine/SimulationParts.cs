using BalloonScript.Engine.Compaction;
using BalloonScript.Engine.Host;
using BalloonScript.Engine.Mm;
using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.Sanitizers;
using BalloonScript.Engine.Sched;
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
    BalloonHost Host,
    Workload.Workload Workload,
    Workload.HighOrderRequests HighOrder,
    Scheduler Scheduler,
    FatalSignal Signal,
    Sanitizer Sanitizer,
    PageStateCheck Check,
    BalloonCheck BalloonCheck,
    VmStat VmStat,
    ProcText Proc);
