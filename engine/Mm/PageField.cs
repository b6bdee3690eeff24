using System.Runtime.CompilerServices;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Snapshots;

namespace BalloonScript.Engine.Mm;

/// <summary>
/// One field of <c>struct page</c> for every PFN (a column of <see cref="PageTable"/>). Reads are plain array reads;
/// every write also marks the page's chunk <see cref="PageChanges.Written"/>, so that the whole-memory checks after an
/// operation look only at the blocks it changed, the page allocator knows the chunk is no longer clean, and a restore
/// of the same snapshot copies back only the chunks written. <typeparamref name="T"/> is a primitive (<c>uint</c>,
/// <c>int</c>, <c>long</c>, <c>byte</c>: <see cref="PageTable"/>'s columns).
/// </summary>
// No constraint on T: with one naming a type of the framework's (unmanaged, struct, IEquatable<T>), ReadyToRun leaves
// the instantiations out of the ahead-of-time image, so the image's every page-field access was a call into JIT-compiled
// code, tier 0 until the tiered compiler reached it (BENCHMARKS.md, thirty-eighth session).
internal sealed class PageField<T>(int nrPages, PageChanges changes)
{
    private readonly T[] _values = new T[nrPages];
    [NotState("the marks of PageChanges, not page state")]
    private readonly byte[] _marks = changes.Marks;
    [NotState("the recorder of partial-order reduction, set for a race explored with it")]
    private StepAccesses? _accesses;

    // Inlined always: with the recorder compiled out an access is one array access (and a mark), but the large kernel
    // paths (compact_zone's loop, migrate_pages) ran out of the JIT's inlining budget and called it.
    public T this[int pfn]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            if (StepAccesses.Compiled) _accesses?.Read(pfn);
            return _values[pfn];
        }
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        set
        {
            if (StepAccesses.Compiled) _accesses?.Write(pfn);
            _values[pfn] = value;
            _marks[pfn >> PageChanges.ChunkOrder] = PageChanges.Written;
        }
    }

    /// <summary>
    /// The host memory of [<paramref name="pfn"/>, +<paramref name="n"/>) faulted in writable, no value changed
    /// (<see cref="HostMemory"/>): not an access of the guest's, so neither recorded nor marked.
    /// </summary>
    public void PrefaultWritable(int pfn, int n) => HostMemory.PrefaultWritable(_values, pfn, n);

    /// <summary>Record every access in <paramref name="accesses"/> from now on (null: stop).</summary>
    public void Track(StepAccesses? accesses) => _accesses = accesses;

    public int Length => _values.Length;

    /// <summary>The values, read-only (searching, copying out).</summary>
    public ReadOnlySpan<T> AsSpan()
    {
        if (StepAccesses.Compiled) _accesses?.Global();
        return _values;
    }

    /// <summary>The live array, for a caller that copies it at once and never writes it (the bindings' page map).</summary>
    internal T[] Unsafe
    {
        get
        {
            if (StepAccesses.Compiled) _accesses?.Global();
            return _values;
        }
    }

    public int IndexOf(T value)
    {
        if (StepAccesses.Compiled) _accesses?.Global();
        return Array.IndexOf(_values, value);
    }

    public T[] ToArray()
    {
        if (StepAccesses.Compiled) _accesses?.Global();
        return (T[])_values.Clone();
    }

    /// <summary><paramref name="count"/> pages from <paramref name="start"/> set to <paramref name="value"/>.</summary>
    public void Fill(T value, int start, int count)
    {
        if (count == 1)
        {
            this[start] = value; // an order-0 page: a plain store, not a span fill (recorded as one write)
            return;
        }
        if (StepAccesses.Compiled) _accesses?.Global();
        _values.AsSpan(start, count).Fill(value);
        for (int c = start >> PageChanges.ChunkOrder; c <= (start + count - 1) >> PageChanges.ChunkOrder; c++) _marks[c] = PageChanges.Written;
    }

    /// <summary>
    /// Every page set from <paramref name="values"/> (a snapshot's copy): all of them, or only the runs of
    /// <paramref name="dirty"/> when the others hold those values already.
    /// </summary>
    public void Restore(T[] values, List<(int Start, int Count)>? dirty)
    {
        if (StepAccesses.Compiled) _accesses?.Global();
        if (dirty is null) values.CopyTo(_values, 0);
        else foreach (var (start, count) in dirty) Array.Copy(values, start, _values, start, count);
    }
}
