using System.Collections.Concurrent;
using System.Linq.Expressions;
using System.Reflection;

namespace BalloonScript.Engine.Snapshots;

/// <summary>
/// Whether two saved states (<see cref="ISnapshotState.Save"/> results) hold the same values: primitives, enums, strings
/// and decimals by their own equality, arrays element by element, every other object (tuples, records, classes) field by
/// field, whatever its equality says (a saved record compares its arrays by reference). What partial-order reduction
/// compares the state outside pages and locks with, several times a schedule: each type's field walk is compiled once.
/// </summary>
internal static class StateEquality
{
    private static readonly ConcurrentDictionary<Type, Func<object, object, bool>> Comparers = new();

    private static readonly MethodInfo EqualMethod = typeof(StateEquality).GetMethod(nameof(Equal))!;

    public static bool Equal(object? a, object? b)
    {
        if (ReferenceEquals(a, b)) return true;
        if (a is null || b is null) return false;
        var type = a.GetType();
        if (type != b.GetType()) return false;
        if (type.IsPrimitive || type.IsEnum || a is string || a is decimal) return a.Equals(b);
        if (a is Array x) return ArraysEqual(x, (Array)b);
        return Comparers.GetOrAdd(type, CompileFieldWalk)(a, b);
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

    /// <summary>
    /// <c>(a, b) =&gt; a.f1 == b.f1 &amp;&amp; …</c> over every instance field of <paramref name="type"/> and its base types:
    /// a primitive, enum, string or decimal field by <see cref="EqualityComparer{T}.Default"/> (its own equality, unboxed),
    /// any other through <see cref="Equal"/>.
    /// </summary>
    private static Func<object, object, bool> CompileFieldWalk(Type type)
    {
        var a = Expression.Parameter(typeof(object), "a");
        var b = Expression.Parameter(typeof(object), "b");
        // A boxed struct is read in place (Unbox), a class through a cast.
        Expression x = type.IsValueType ? Expression.Unbox(a, type) : Expression.Convert(a, type);
        Expression y = type.IsValueType ? Expression.Unbox(b, type) : Expression.Convert(b, type);
        Expression body = Expression.Constant(true);
        foreach (var f in AllFields(type))
        {
            Expression fx = Expression.Field(x, f), fy = Expression.Field(y, f);
            var t = f.FieldType;
            Expression same = t.IsPrimitive || t.IsEnum || t == typeof(string) || t == typeof(decimal)
                ? Expression.Call(Expression.Constant(DefaultComparer(t)), DefaultComparer(t).GetType().GetMethod("Equals", [t, t])!, fx, fy)
                : Expression.Call(EqualMethod, Expression.Convert(fx, typeof(object)), Expression.Convert(fy, typeof(object)));
            body = Expression.AndAlso(body, same);
        }
        return Expression.Lambda<Func<object, object, bool>>(body, a, b).Compile();
    }

    private static object DefaultComparer(Type t) =>
        typeof(EqualityComparer<>).MakeGenericType(t).GetProperty(nameof(EqualityComparer<int>.Default))!.GetValue(null)!;

    /// <summary>Every instance field of <paramref name="type"/> and its base types, public or not (what a saved object holds).</summary>
    private static FieldInfo[] AllFields(Type type)
    {
        var fields = new List<FieldInfo>();
        for (var t = type; t is not null && t != typeof(object); t = t.BaseType)
            fields.AddRange(t.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly));
        return [.. fields];
    }
}
