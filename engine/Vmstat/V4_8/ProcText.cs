using BalloonScript.Engine.Mm;

namespace BalloonScript.Engine.Vmstat.V4_8;

/// <summary>
/// The /proc text of the <c>movable</c> design: v3.16's (its page allocator's), and /proc/vmstat with the event v4.6
/// added for kcompactd, <c>compact_daemon_wake</c>, where v4.8's vmstat_text has it: right after
/// <c>compact_success</c> (KCOMPACTD_WAKE follows COMPACTSUCCESS in v4.8's vm_event_item). The
/// <c>compact_daemon_*_scanned</c> counters came after v4.9 and are not printed.
/// </summary>
internal sealed class ProcText(Node node, PageLists lists, VmStat vmstat, SimulationOptions options, Reclaim.ZoneReclaimable reclaimable,
    Writeback writeback, PageAlloc.IPerCpuPages? pcp = null) : Vmstat.ProcText(node, lists, vmstat, options, reclaimable, writeback, pcp)
{
    /// <summary>global_dirty_limits as 4.2 on compute it (<see cref="Mm.Writeback.DomainDirtyLimits"/>).</summary>
    protected override (long Background, long Dirty) GlobalDirtyLimits() => Writeback.DomainDirtyLimits();

    public override string Vmstat()
    {
        string text = base.Vmstat();
        int line = text.IndexOf("\ncompact_success ", StringComparison.Ordinal) + 1;
        int next = text.IndexOf('\n', line) + 1;
        return text.Insert(next, $"{VmEvents.Names[(int)VmEvent.CompactDaemonWake]} {VmStat.Event(VmEvent.CompactDaemonWake)}\n");
    }
}
