using System.Collections;
using System.Reflection;
using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Snapshots;
using Microsoft.Extensions.DependencyInjection;

namespace BalloonScript.Engine.Tests.Snapshots;

/// <summary>
/// Reflection over the services of one simulation's composition: which singletons there are, which of their fields
/// are wiring (other services, interfaces, delegates, options) and which are state; and a field-by-field comparison
/// of two simulations' state.
/// </summary>
internal sealed class StateGraph
{
    private const BindingFlags Instance = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly;
    private readonly HashSet<Type> _serviceTypes = [];

    public StateGraph(SimulationOptions options)
    {
        // A reference to a part is wiring in every composition, including parts this one leaves out (per-cpu lists off).
        foreach (var design in KernelDesign.All)
            foreach (bool pcp in new[] { false, true })
                foreach (var d in new ServiceCollection().AddBalloonScript(new SimulationOptions { Design = design, PerCpuLists = pcp }))
                {
                    _serviceTypes.Add(d.ServiceType);
                    if (d.ImplementationType is not null) _serviceTypes.Add(d.ImplementationType);
                }
        foreach (var d in new ServiceCollection().AddBalloonScript(options))
        {
            if (d.Lifetime != ServiceLifetime.Singleton || d.ServiceType == typeof(ISnapshotState)) continue;
            if (d.ServiceType.IsGenericType && d.ServiceType.GetGenericTypeDefinition() == typeof(Lazy<>)) continue; // a deferred reference: wiring
            var type = d.ImplementationType ?? (d.ServiceType.IsClass ? d.ServiceType : null);
            if (type is not null) Singletons.Add((d.ServiceType, type));
        }
    }

    /// <summary>(service type to resolve, class) of every singleton that is not a mere interface forward.</summary>
    public List<(Type Service, Type Class)> Singletons { get; } = [];

    /// <summary>Every instance field of <paramref name="type"/> and its base classes.</summary>
    public static IEnumerable<FieldInfo> Fields(Type type)
    {
        for (var t = type; t is not null && t != typeof(object); t = t.BaseType)
            foreach (var f in t.GetFields(Instance)) yield return f;
    }

    /// <summary>The field carries <see cref="NotStateAttribute"/> (on itself or on the auto-property it backs).</summary>
    public static bool MarkedNotState(FieldInfo f)
    {
        if (f.IsDefined(typeof(NotStateAttribute))) return true;
        if (!f.Name.StartsWith('<') || !f.Name.EndsWith(">k__BackingField")) return false;
        var property = f.DeclaringType!.GetProperty(f.Name[1..f.Name.IndexOf('>')], Instance);
        return property?.IsDefined(typeof(NotStateAttribute)) == true;
    }

    /// <summary>A reference to another part, or configuration: not this part's state.</summary>
    public bool IsWiring(Type t) =>
        t.IsInterface || typeof(Delegate).IsAssignableFrom(t) || _serviceTypes.Contains(t)
        || t == typeof(SimulationOptions) || t == typeof(KernelDesign);

    /// <summary>A field that refers to other parts (or holds configuration) and cannot be pointed elsewhere.</summary>
    private bool IsWiringField(FieldInfo f) =>
        IsWiring(f.FieldType) || (f.IsInitOnly && f.FieldType.IsArray && IsWiring(f.FieldType.GetElementType()!));

    public static bool IsImmutable(Type t) => t.IsPrimitive || t.IsEnum || t == typeof(string) || t == typeof(decimal);

    /// <summary>The fields of <paramref name="type"/> that hold mutable state no snapshot covers (the test's failures).</summary>
    public IEnumerable<string> Unsnapshotted(Type type)
    {
        if (typeof(ISnapshotState).IsAssignableFrom(type)) yield break;
        foreach (var f in Fields(type))
        {
            if (MarkedNotState(f) || IsWiringField(f)) continue;
            if (f.IsInitOnly && IsImmutable(f.FieldType)) continue;
            yield return $"{type.Name}.{f.Name} ({f.FieldType.Name})";
        }
    }

    /// <summary>Where the state reachable from <paramref name="a"/> and <paramref name="b"/> differs (wiring and [NotState] fields skipped).</summary>
    public List<string> Differences(object a, object b, string path)
    {
        var found = new List<string>();
        Compare(a, b, path, found, new HashSet<object>(ReferenceEqualityComparer.Instance), top: true);
        return found;
    }

    private void Compare(object? a, object? b, string path, List<string> found, HashSet<object> seen, bool top = false)
    {
        if (found.Count > 20) return;
        if (a is null || b is null)
        {
            if (a is not null || b is not null) found.Add($"{path}: {a ?? "null"} vs {b ?? "null"}");
            return;
        }
        var type = a.GetType();
        if (type != b.GetType()) { found.Add($"{path}: {type.Name} vs {b.GetType().Name}"); return; }
        if (IsImmutable(type))
        {
            if (!a.Equals(b)) found.Add($"{path}: {a} vs {b}");
            return;
        }
        if (a is Delegate || (!top && IsWiring(type))) return;
        if (!type.IsValueType && !seen.Add(a)) return;
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(PriorityQueue<,>))
        {
            var items = type.GetProperty("UnorderedItems")!;
            Compare(Sorted((IEnumerable)items.GetValue(a)!), Sorted((IEnumerable)items.GetValue(b)!), path, found, seen);
            return;
        }
        if (a is IEnumerable ea && !type.IsArray)
        {
            bool unordered = type.IsGenericType && type.GetGenericTypeDefinition() == typeof(HashSet<>);
            Compare(unordered ? Sorted(ea) : ea.Cast<object>().ToArray(), unordered ? Sorted((IEnumerable)b) : ((IEnumerable)b).Cast<object>().ToArray(), path, found, seen);
            return;
        }
        if (a is Array xa)
        {
            var xb = (Array)b;
            if (xa.Length != xb.Length) { found.Add($"{path}: length {xa.Length} vs {xb.Length}"); return; }
            for (int i = 0; i < xa.Length && found.Count <= 20; i++) Compare(xa.GetValue(i), xb.GetValue(i), $"{path}[{i}]", found, seen);
            return;
        }
        foreach (var f in Fields(type))
            if (!MarkedNotState(f) && !f.FieldType.IsPointer && !IsWiringField(f))
                Compare(f.GetValue(a), f.GetValue(b), $"{path}.{f.Name}", found, seen);
    }

    private static object[] Sorted(IEnumerable items) => items.Cast<object>().OrderBy(x => x.ToString(), StringComparer.Ordinal).ToArray();
}
