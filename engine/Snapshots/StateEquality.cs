using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.CompilerServices;

namespace BalloonScript.Engine.Snapshots;

/// <summary>
/// Whether two saved states (<see cref="ISnapshotState.Save"/> results) hold the same values: arrays element by element,
/// tuples item by item, other objects field by field, whatever their equality says (a saved record compares its arrays
/// by reference). What partial-order reduction compares the state outside pages and locks with.
/// </summary>
internal static class StateEquality
{
    private static readonly ConcurrentDictionary<Type, FieldInfo[]> Fields = new();

    public static bool Equal(object? a, object? b)
    {
        if (ReferenceEquals(a, b)) return true;
        if (a is null || b is null) return false;
        var type = a.GetType();
        if (type != b.GetType()) return false;
        if (type.IsPrimitive || type.IsEnum || a is string || a is decimal) return a.Equals(b);
        if (a is Array x) return ArraysEqual(x, (Array)b);
        if (a is ITuple t) return TuplesEqual(t, (ITuple)b);
        foreach (var f in FieldsOf(type))
            if (!Equal(f.GetValue(a), f.GetValue(b))) return false;
        return true;
    }

    private static bool ArraysEqual(Array a, Array b)
    {
        if (a.Length != b.Length) return false;
        switch (a)
        {
            case int[] i: return i.AsSpan().SequenceEqual((int[])b);
            case long[] l: return l.AsSpan().SequenceEqual((long[])b);
            case uint[] u: return u.AsSpan().SequenceEqual((uint[])b);
            case byte[] y: return y.AsSpan().SequenceEqual((byte[])b);
            case bool[] z: return z.AsSpan().SequenceEqual((bool[])b);
        }
        if (a.Rank != 1) throw new NotSupportedException($"saved state holds a {a.Rank}-dimensional array");
        for (int k = 0; k < a.Length; k++)
            if (!Equal(a.GetValue(k), b.GetValue(k))) return false;
        return true;
    }

    private static bool TuplesEqual(ITuple a, ITuple b)
    {
        for (int k = 0; k < a.Length; k++)
            if (!Equal(a[k], b[k])) return false;
        return true;
    }

    /// <summary>Every instance field of <paramref name="type"/> and its base types, public or not (what a saved object holds).</summary>
    public static FieldInfo[] FieldsOf(Type type) => Fields.GetOrAdd(type, AllFields);

    private static FieldInfo[] AllFields(Type type)
    {
        var fields = new List<FieldInfo>();
        for (var t = type; t is not null && t != typeof(object); t = t.BaseType)
            fields.AddRange(t.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly));
        return [.. fields];
    }
}
