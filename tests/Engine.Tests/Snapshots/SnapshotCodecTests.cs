using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Snapshots;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Snapshots;

/// <summary>A snapshot as bytes (what a dask worker receives) restores the same guest as the snapshot itself.</summary>
public class SnapshotCodecTests
{
    [TestCase("legacy", false)]
    [TestCase("fixed", true)]
    public void EncodeDecode_RestoresTheSameStateFieldByField(string design, bool pcp)
    {
        var options = new SimulationOptions { MemoryMib = 32, Design = KernelDesign.Parse(design), Cpus = 2, Seed = 9, PerCpuLists = pcp };
        var parent = new SimRig(options);
        parent.Sim.WorkloadAnon(8);
        parent.Sim.WorkloadFree(0.5, "random", 2);
        parent.Sim.BalloonInflate(4);
        parent.Sim.Compact();

        var bytes = SnapshotCodec.Encode(parent.Sim.Snapshot());
        var child = new SimRig(options);
        child.Sim.Restore(SnapshotCodec.Decode(bytes));

        var graph = new StateGraph(options);
        Assert.That(graph.Singletons.SelectMany(s => graph.Differences(parent.Get(s.Service), child.Get(s.Service), s.Class.Name)), Is.Empty);
        Assert.That(child.Sim.Reports.Select(r => r.ToString()), Is.EqualTo(parent.Sim.Reports.Select(r => r.ToString())));
        Assert.That(Simulation.FromSnapshot(SnapshotCodec.Decode(bytes)).PageMap(), Is.EqualTo(parent.Sim.PageMap()));

        // Written to a stream as they are made (and the stream left open), the bytes are the same.
        var stream = new MemoryStream();
        stream.WriteByte(0xAA);
        SnapshotCodec.Encode(parent.Sim.Snapshot(), stream);
        stream.WriteByte(0x55);
        Assert.That(stream.ToArray(), Is.EqualTo(new byte[] { 0xAA }.Concat(bytes).Append((byte)0x55)));
    }

    [Test]
    public void Decode_BytesThatAreNotASnapshot_IsAnArgumentException()
    {
        Assert.That(Assert.Throws<ArgumentException>(() => SnapshotCodec.Decode([1, 2, 3]))!.Message, Does.Contain("snapshot"));
        Assert.Throws<ArgumentException>(() => SnapshotCodec.Decode([]));
    }
}
