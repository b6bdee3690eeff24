using System.Runtime.CompilerServices;
using BalloonScript.Engine.Snapshots;

namespace BalloonScript.Engine.Sched;

/// <summary>
/// Values the kernel paths share outside <c>struct page</c>: counters they mostly add to (a zone's <c>vm_stat</c>,
/// <c>free_area[].nr_free</c>, the reclaim statistics) and words they store (the virtio balloon driver's). For
/// partial-order reduction each access is recorded by element (<see cref="StepAccesses"/>): a read, an addition or a
/// store. Two additions commute (the element ends the same in either order), so steps that only add to the same counter
/// stay independent; an addition and a read, or a store and any access, do not. Reads are through the indexer and
/// <see cref="AsSpan(int, int)"/> only, so none escapes the record. With the recorder compiled out
/// (<see cref="StepAccesses.Compiled"/>) an access is a plain array access: a struct, held in a readonly field of its
/// owner, so that reaching an element costs no more loads than an array field did.
/// </summary>
internal readonly struct SharedArray
{
    private readonly long[] _values;
    [NotState("the scheduler, whose recorder a race explored with partial-order reduction sets")]
    private readonly Scheduler _scheduler;
    private readonly int _firstKey;

    public SharedArray(Scheduler scheduler, int length)
    {
        _values = new long[length];
        _scheduler = scheduler;
        _firstKey = scheduler.RegisterShared(_values);
    }

    public int Length => _values.Length;

    public long this[int i]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            if (StepAccesses.Compiled) _scheduler.Accesses?.Shared(_firstKey + i, StepAccesses.Access.Read);
            return _values[i];
        }
    }

    /// <summary>Add <paramref name="delta"/> (negative to subtract) to element <paramref name="i"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(int i, long delta)
    {
        if (StepAccesses.Compiled) _scheduler.Accesses?.Shared(_firstKey + i, StepAccesses.Access.Add);
        _values[i] += delta;
    }

    /// <summary>Store <paramref name="value"/> in element <paramref name="i"/>.</summary>
    public void Set(int i, long value)
    {
        if (StepAccesses.Compiled) _scheduler.Accesses?.Shared(_firstKey + i, StepAccesses.Access.Store);
        _values[i] = value;
    }

    /// <summary><paramref name="length"/> elements from <paramref name="start"/>, read (a view, not a copy).</summary>
    public ReadOnlySpan<long> AsSpan(int start, int length)
    {
        if (StepAccesses.Compiled && _scheduler.Accesses is { } accesses)
            for (int i = start; i < start + length; i++) accesses.Shared(_firstKey + i, StepAccesses.Access.Read);
        return _values.AsSpan(start, length);
    }

    /// <summary>Every element, read.</summary>
    public ReadOnlySpan<long> AsSpan() => AsSpan(0, _values.Length);

    /// <summary>A copy of the values (a snapshot's).</summary>
    public long[] Save() => (long[])_values.Clone();

    public void Restore(long[] saved) => saved.CopyTo(_values, 0);
}
