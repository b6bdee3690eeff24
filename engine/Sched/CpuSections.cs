using System.Runtime.CompilerServices;

namespace BalloonScript.Engine.Sched;

/// <summary>
/// Per-CPU data that the kernel touches on its own CPU only with interrupts or preemption off, and that another CPU
/// reaches only through an interrupt or work run on that CPU (v3.16's <c>drain_all_pages</c> sends an IPI,
/// <c>lru_add_drain_all</c> queues work and flushes it) or under the data's own lock (6.1's <c>pcp-&gt;lock</c>). Here a
/// path acts on another CPU's data itself, but only while no path is inside that data's section, and a CPU that comes
/// back to its data meanwhile waits, as it would for the interrupt's handler, the work or the lock.
/// <para>
/// Entering a free section of one's own CPU is an array read and write, not a preemption point: where nothing contends,
/// the schedules a run explores are the same as without the sections. Nothing is held between runs: the scheduler lets
/// go of what a path the run aborted left held (<see cref="Scheduler.Register"/>), so the hot paths need no
/// <c>finally</c>.
/// </para>
/// </summary>
internal sealed partial class CpuSections
{
    private readonly Scheduler _scheduler;
    /// <summary>What a path waiting for a section waits on, one per section (a deadlock message names it).</summary>
    private readonly string[] _names;
    private readonly bool[] _held;

    /// <param name="scheduler">The simulation's scheduler.</param>
    /// <param name="names">One name per section (<c>lru_add_pvec of cpu1</c>), for a waiting path's trace.</param>
    public CpuSections(Scheduler scheduler, string[] names)
    {
        _scheduler = scheduler;
        _names = names;
        _held = new bool[names.Length];
        scheduler.Register(this);
    }

    /// <summary>
    /// Enter <paramref name="section"/>, which belongs to <paramref name="cpu"/>, first waiting while another path is in
    /// it. For partial-order reduction, entering or leaving another CPU's section, and any wait or failed try, are
    /// ordered against every other step (the mark is no page or lock the recorder sees); a CPU's own steps on its own
    /// free section need no order among themselves.
    /// </summary>
    [Preemptible]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Enter(int section, int cpu)
    {
        if (_held[section] || cpu != _scheduler.Current.Cpu) EnterContended(section);
        _held[section] = true;
    }

    /// <summary>Enter <paramref name="section"/> of the running CPU if no path is in it (a spin_trylock); false, and nothing entered, if one is.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryEnter(int section)
    {
        if (_held[section]) return TryContended();
        _held[section] = true;
        return true;
    }

    /// <summary>Leave <paramref name="section"/>, which belongs to <paramref name="cpu"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Exit(int section, int cpu)
    {
        if (StepAccesses.Compiled && cpu != _scheduler.Current.Cpu) _scheduler.Accesses?.Global();
        _held[section] = false;
    }

    /// <summary>No path is inside any section (the scheduler, when a run ends).</summary>
    public void Clear() => Array.Clear(_held);

    /// <summary>A failed try, ordered against every other step (out of line).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool TryContended()
    {
        if (StepAccesses.Compiled) _scheduler.Accesses?.Global();
        return false;
    }

    /// <summary>Out of line: its closure is allocated only here, not on every entry.</summary>
    [Preemptible]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void EnterContended(int section)
    {
        if (StepAccesses.Compiled) _scheduler.Accesses?.Global();
        if (_held[section]) _scheduler.WaitUntil(() => !_held[section], _names[section], _names[section]);
    }
}
