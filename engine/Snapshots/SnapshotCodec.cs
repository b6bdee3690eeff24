using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using BalloonScript.Engine.Designs;

namespace BalloonScript.Engine.Snapshots;

/// <summary>
/// A <see cref="SimulationSnapshot"/> as bytes and back, to send a prepared guest to another process (a dask worker
/// exploring a race). The saved states are plain data (arrays, records, tuples, strings, numbers), written field by
/// field through reflection, arrays of numbers as their bytes; only types of the engine and of the runtime library
/// are read back. Both ends must run the same engine build.
/// </summary>
public static class SnapshotCodec
{
    private const string Magic = "BalloonScript snapshot 1";
    private const byte Null = 0, Value = 1, Array = 2, Fields = 3, Design = 4;
    private const BindingFlags InstanceFields = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic;

    public static byte[] Encode(SimulationSnapshot snapshot)
    {
        using var stream = new MemoryStream();
        Encode(snapshot, stream);
        return stream.ToArray();
    }

    /// <summary>The bytes of <see cref="Encode(SimulationSnapshot)"/>, written to <paramref name="stream"/> (left open) as they are made.</summary>
    public static void Encode(SimulationSnapshot snapshot, Stream stream)
    {
        // BinaryWriter's own default encoding (UTF-8, no BOM, invalid text an error), with the stream left open.
        using var w = new BinaryWriter(stream, new System.Text.UTF8Encoding(false, throwOnInvalidBytes: true), leaveOpen: true);
        w.Write(Magic);
        var options = SimulationOptions.Settable;
        var writer = new Writer(w);
        w.Write(options.Length);
        foreach (var p in options)
        {
            w.Write(p.Name);
            writer.Write(p.GetValue(snapshot.Options));
        }
        writer.Write(snapshot.States);
    }

    public static SimulationSnapshot Decode(byte[] bytes)
    {
        Check.That(bytes is { Length: > 0 }, "snapshot", "no bytes to decode");
        using var r = new BinaryReader(new MemoryStream(bytes));
        Check.That(r.ReadString() == Magic, "snapshot", "these bytes are not a BalloonScript snapshot of this version");
        var options = new SimulationOptions();
        int n = r.ReadInt32();
        var reader = new Reader(r);
        for (int i = 0; i < n; i++)
        {
            string name = r.ReadString();
            var property = System.Array.Find(SimulationOptions.Settable, p => p.Name == name);
            var value = reader.Read();
            property?.SetValue(options, value);
        }
        return new SimulationSnapshot(options.Validate(), (object[])reader.Read()!);
    }

    private static FieldInfo[] FieldsOf(Type t) => t.GetFields(InstanceFields).OrderBy(f => f.MetadataToken).ToArray();

    private static bool IsBlittable(Type t) => t.IsPrimitive || t.IsEnum;

    /// <summary>The bytes of an array of numbers or enums.</summary>
    private static Span<byte> Bytes(System.Array array)
    {
        var element = array.GetType().GetElementType()!;
        int size = Marshal.SizeOf(element.IsEnum ? Enum.GetUnderlyingType(element) : element == typeof(bool) ? typeof(byte) : element == typeof(char) ? typeof(ushort) : element);
        return MemoryMarshal.CreateSpan(ref MemoryMarshal.GetArrayDataReference(array), array.Length * size);
    }

    private sealed class Writer(BinaryWriter w)
    {
        private readonly Dictionary<Type, int> _types = [];

        public void Write(object? value)
        {
            switch (value)
            {
                case null:
                    w.Write(Null);
                    return;
                case KernelDesign design:
                    w.Write(Design);
                    w.Write(design.Name);
                    return;
                case System.Array array:
                    w.Write(Array);
                    WriteType(array.GetType().GetElementType()!);
                    w.Write(array.Length);
                    if (IsBlittable(array.GetType().GetElementType()!)) w.Write(Bytes(array));
                    else foreach (var item in array) Write(item);
                    return;
            }
            var type = value.GetType();
            if (IsBlittable(type) || type == typeof(string))
            {
                w.Write(Value);
                WriteType(type);
                if (type == typeof(string)) w.Write((string)value);
                else
                {
                    var one = System.Array.CreateInstance(type, 1);
                    one.SetValue(value, 0);
                    w.Write(Bytes(one));
                }
                return;
            }
            w.Write(Fields);
            WriteType(type);
            foreach (var f in FieldsOf(type)) Write(f.GetValue(value));
        }

        private void WriteType(Type t)
        {
            if (_types.TryGetValue(t, out int id))
            {
                w.Write(id);
                return;
            }
            w.Write(-1);
            w.Write(t.AssemblyQualifiedName!);
            _types[t] = _types.Count;
        }
    }

    private sealed class Reader(BinaryReader r)
    {
        private readonly List<Type> _types = [];

        public object? Read()
        {
            byte tag = r.ReadByte();
            switch (tag)
            {
                case Null:
                    return null;
                case Design:
                    return KernelDesign.Parse(r.ReadString(), "snapshot");
                case Array:
                {
                    var element = ReadType();
                    var array = System.Array.CreateInstance(element, r.ReadInt32());
                    if (IsBlittable(element)) r.BaseStream.ReadExactly(Bytes(array));
                    else for (int i = 0; i < array.Length; i++) array.SetValue(Read(), i);
                    return array;
                }
                case Value:
                {
                    var type = ReadType();
                    if (type == typeof(string)) return r.ReadString();
                    var one = System.Array.CreateInstance(type, 1);
                    r.BaseStream.ReadExactly(Bytes(one));
                    return one.GetValue(0);
                }
                case Fields:
                {
                    var type = ReadType();
                    var value = RuntimeHelpers.GetUninitializedObject(type);
                    foreach (var f in FieldsOf(type)) f.SetValue(value, Read());
                    return value;
                }
                default:
                    throw new ArgumentException($"snapshot: corrupt bytes (tag {tag})", "snapshot");
            }
        }

        private Type ReadType()
        {
            int id = r.ReadInt32();
            if (id >= 0) return _types[id];
            string name = r.ReadString();
            var type = Type.GetType(name, throwOnError: false);
            Check.That(type is not null && (type.Assembly == typeof(SnapshotCodec).Assembly || type.Assembly == typeof(object).Assembly),
                "snapshot", $"names a type this engine does not read: {name}");
            _types.Add(type!);
            return type!;
        }
    }
}
