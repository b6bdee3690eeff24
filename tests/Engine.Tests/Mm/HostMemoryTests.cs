using BalloonScript.Engine.Mm;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Mm;

/// <summary>
/// <see cref="HostMemory.PrefaultWritable{T}"/>: the host pages of a range made resident and writable, no value changed,
/// so that the simulator's read-then-write of a page's fields takes no fault (not a zero-page read and a copy-on-write).
/// </summary>
public class HostMemoryTests
{
    private static IEnumerable<TestCaseData> Ranges()
    {
        // (length, start, count): whole arrays, one element, the first and last, ranges across host pages, none.
        foreach (var (length, start, count) in new[] { (4099, 0, 4099), (4099, 4098, 1), (4099, 0, 1), (70_001, 123, 69_000), (70_001, 5, 0), (9000, 8996, 4) })
            yield return new TestCaseData(length, start, count).SetName($"PrefaultWritable_ChangesNoValue({length}, {start}, {count})");
    }

    [TestCaseSource(nameof(Ranges))]
    public void PrefaultWritable_ChangesNoValue(int length, int start, int count)
    {
        var random = new Random(length + start + count);
        AssertUnchanged(Filled(length, random, r => (byte)r.Next(256)), start, count);
        AssertUnchanged(Filled(length, random, r => r.Next(int.MinValue, int.MaxValue)), start, count);
        AssertUnchanged(Filled(length, random, r => (uint)r.Next()), start, count);
        AssertUnchanged(Filled(length, random, r => r.NextInt64()), start, count);
    }

    /// <summary>
    /// The int each no-op write touches is aligned to four bytes (a locked operation on a misaligned address splits a
    /// cache line on x86 and faults on ARM64) and holds the element, for every element of byte arrays whose length is not
    /// a multiple of four (the last elements were once clamped to a misaligned int ending at the array's end).
    /// </summary>
    [Test]
    public void PrefaultWritable_TouchesAlignedIntsHoldingTheElement()
    {
        foreach (int length in new[] { 4096, 4097, 4098, 4099, 4101 })
            for (int i = length - 8; i < length; i++)
            {
                int start = HostMemory.WordStart<byte>(i);
                Assert.That((start % sizeof(int), start <= i && i < start + sizeof(int)), Is.EqualTo((0, true)),
                    $"byte[{length}], element {i}: the int at byte {start}");
            }
        Assert.That(HostMemory.WordStart<ushort>(4099), Is.EqualTo(4098), "ushort: two a word");
        Assert.That(HostMemory.WordStart<long>(4099), Is.EqualTo(4099), "long: the element itself");
    }

    /// <summary>
    /// An array of references (or of structs holding them) is refused, naming the type and the argument: an OR into its
    /// words would be a locked write into object references. The type system no longer says so (no constraint on T, which
    /// would keep PageField's instantiations out of the ahead-of-time image).
    /// </summary>
    [Test]
    public void PrefaultWritable_RefusesAnArrayHoldingReferences()
    {
        var strings = new[] { "a", "b", "c", "d" };
        var pairs = new[] { (1, "x"), (2, "y") };
        var refused = Assert.Throws<ArgumentException>(() => HostMemory.PrefaultWritable(strings, 0, strings.Length))!;
        Assert.That(refused.ParamName, Is.EqualTo("array"));
        Assert.That(refused.Message, Does.Contain("System.String").And.Contain("holds references"));
        Assert.That(Assert.Throws<ArgumentException>(() => HostMemory.PrefaultWritable(pairs, 0, pairs.Length))!.ParamName, Is.EqualTo("array"));
    }

    private static T[] Filled<T>(int length, Random random, Func<Random, T> next) => Enumerable.Range(0, length).Select(_ => next(random)).ToArray();

    private static void AssertUnchanged<T>(T[] array, int start, int count) where T : unmanaged
    {
        var before = (T[])array.Clone();
        HostMemory.PrefaultWritable(array, start, count);
        Assert.That(array, Is.EqualTo(before), $"{typeof(T).Name}[{array.Length}], [{start}, +{count})");
    }

    /// <summary>
    /// Reading then writing one element of each host page of a fresh array takes a fault or two a page (the read maps the
    /// zero page, the write copies it), and none after the range was prefaulted. Linux only (the faults are this thread's, from
    /// /proc/thread-self/stat); inconclusive when the runtime gave an array whose memory is already resident.
    /// </summary>
    [Test]
    public void PrefaultWritable_ReadThenWriteOfTheRangeTakesNoFault()
    {
        Assume.That(OperatingSystem.IsLinux(), "needs /proc/thread-self/stat");
        const int Length = 16 << 20; // 64 MiB of ints
        int step = Environment.SystemPageSize / sizeof(int);
        long pages = Length / step;

        long control = ReadThenWriteFaults(new int[Length], step);
        Assume.That(control, Is.GreaterThanOrEqualTo(pages), "precondition: a new array's memory was untouched");

        var array = new int[Length];
        HostMemory.PrefaultWritable(array, 0, Length);
        Assert.That(ReadThenWriteFaults(array, step), Is.LessThan(pages / 20));
    }

    private static long ReadThenWriteFaults(int[] array, int step)
    {
        long before = MinorFaults();
        for (int i = 0; i < array.Length; i += step) array[i] = array[i] + 1;
        return MinorFaults() - before;
    }

    /// <summary>This thread's minor faults: field 10 of /proc/thread-self/stat (after the command name's closing parenthesis).</summary>
    private static long MinorFaults()
    {
        string stat = File.ReadAllText("/proc/thread-self/stat");
        return long.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[7]);
    }
}
