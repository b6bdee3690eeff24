using System.Runtime.CompilerServices;

namespace BalloonScript.Engine.Mm;

/// <summary>
/// How the page arrays meet the host's memory. A new page array is host memory nobody touched (the GC hands out
/// zero-filled pages that the host kernel maps in on first access), so that only what a guest uses becomes resident. The
/// first access to each host page sets its cost: a write maps in a zeroed page, one fault; a read maps the kernel's shared
/// zero page, and the first write after it is a second fault, a copy-on-write whose TLB shootdown interrupts the other
/// CPU whenever another thread of the process runs there (measured alone: 11–14 µs, against 1.6–3.6 µs for a first
/// write; BENCHMARKS.md, twenty-third session). Where the simulator would read a page's fields before it writes them
/// (check_new_page before prep_new_page), <see cref="PrefaultWritable{T}"/> makes the first access a write.
/// </summary>
internal static class HostMemory
{
    private static readonly int PageBytes = Environment.SystemPageSize;

    /// <summary>
    /// The host pages holding <paramref name="array"/>[<paramref name="start"/>, +<paramref name="count"/>) faulted in
    /// writable, no value changed: an atomic OR of 0 into four bytes of each page (an access the MMU takes as a write,
    /// a no-op for the data, and safe beside another thread's writes). <typeparamref name="T"/> holds no references (the
    /// callers': <see cref="PageField{T}"/>'s primitives, <see cref="PageLists"/>' links); checked at run time, not by a
    /// constraint, which would keep <see cref="PageField{T}"/> out of the ahead-of-time image.
    /// </summary>
    /// <exception cref="ArgumentException"><typeparamref name="T"/> is or holds a reference.</exception>
    public static void PrefaultWritable<T>(T[] array, int start, int count)
    {
        if (RuntimeHelpers.IsReferenceOrContainsReferences<T>())
            throw new ArgumentException($"PrefaultWritable: {typeof(T)} holds references; only arrays of values without references can be prefaulted", nameof(array));
        if (count <= 0 || (long)array.Length * Unsafe.SizeOf<T>() < sizeof(int)) return;
        int last = start + count - 1, step = Math.Max(1, PageBytes / Unsafe.SizeOf<T>());
        // One element a host page apart, from the first: one in each page up to the last element's, which is touched too.
        for (int i = start; i < last; i += step) NoOpWrite(array, i);
        NoOpWrite(array, last);
    }

    private static void NoOpWrite<T>(T[] array, int i) =>
        Interlocked.Or(ref Unsafe.As<T, int>(ref array[WordStart<T>(i)]), 0);

    /// <summary>
    /// The element at which the aligned four bytes holding element <paramref name="i"/> start: <paramref name="i"/> itself for
    /// elements of four bytes or more, else rounded down to a multiple of the elements an int holds. An array's data starts
    /// 8-byte aligned and its object's size is a multiple of 8, so those four bytes lie inside the object even where they
    /// run past the last element (into its padding, which an OR of 0 leaves as it is).
    /// </summary>
    internal static int WordStart<T>(int i) =>
        Unsafe.SizeOf<T>() < sizeof(int) ? i & ~(sizeof(int) / Unsafe.SizeOf<T>() - 1) : i;
}
