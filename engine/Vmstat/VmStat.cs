using BalloonScript.Engine.Mm;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Snapshots;

namespace BalloonScript.Engine.Vmstat;

/// <summary>
/// /proc/vmstat: zone counters summed over zones (global_page_state) followed by the vm events. For partial-order
/// reduction, counting an event commutes with counting any other (the state after both is the same in either order), and
/// reading the events is ordered against every step.
/// </summary>
internal sealed class VmStat(Node node, Scheduler scheduler) : ISnapshotState
{
    private readonly long[] _events = new long[(int)VmEvent.Count];

    /// <summary>count_vm_event / count_vm_events.</summary>
    public void Count(VmEvent e, long delta = 1) => _events[(int)e] += delta;

    /// <summary>
    /// submit_bio of one page (v3.16 block/blk-core.c; 6.1 alike): pgpgin for a read, pgpgout for a write
    /// (<paramref name="e"/>), counted in 512-byte sectors, 8 to a page (/proc/vmstat prints them halved, in KiB).
    /// </summary>
    public void CountPageBio(VmEvent e) => Count(e, 8);

    public long Event(VmEvent e)
    {
        if (StepAccesses.Compiled) scheduler.Accesses?.Global();
        return _events[(int)e];
    }

    /// <summary>An event as /proc/vmstat shows it: vmstat_start halves pgpgin and pgpgout, sectors to KiB.</summary>
    public long Shown(VmEvent e) => e is VmEvent.Pgpgin or VmEvent.Pgpgout ? Event(e) / 2 : Event(e);

    /// <summary>global_page_state(item) (<see cref="Node.GlobalStat"/>).</summary>
    public long Global(ZoneStat item) => node.GlobalStat(item);

    public object Save() => _events.Clone();

    public void Restore(object saved) => ((long[])saved).CopyTo(_events, 0);

    public string[] Names() => [.. ZoneStats.Names, .. VmEvents.Names];

    /// <summary>How many values <see cref="Values"/> has: the zone counters, then the events.</summary>
    public const int ValueCount = (int)ZoneStat.Count + (int)VmEvent.Count;

    public long[] Values()
    {
        ReadingAll();
        var values = new long[ValueCount];
        for (int i = 0; i < ValueCount; i++) values[i] = Value(i);
        return values;
    }

    /// <summary><see cref="Values"/> written into <paramref name="into"/> (a history row), without an array of its own.</summary>
    public void ValuesInto(Span<double> into)
    {
        ReadingAll();
        for (int i = 0; i < ValueCount; i++) into[i] = Value(i);
    }

    /// <summary>Reading every counter and event: for partial-order reduction, ordered against every step.</summary>
    private void ReadingAll()
    {
        if (StepAccesses.Compiled) scheduler.Accesses?.Global();
    }

    /// <summary>The <paramref name="i"/>-th of <see cref="Values"/>.</summary>
    private long Value(int i) => i < (int)ZoneStat.Count ? Global((ZoneStat)i) : Shown((VmEvent)(i - (int)ZoneStat.Count));
}
