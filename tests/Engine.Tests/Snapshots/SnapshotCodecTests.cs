using BalloonScript.Engine.Designs;
using BalloonScript.Engine.Snapshots;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Snapshots;

/// <summary>A snapshot as bytes (what a dask worker receives) restores the same guest as the snapshot itself.</summary>
public class SnapshotCodecTests
{
    /// <summary>
    /// A guest as bytes and back; the pressured ones have reclaim's shadow entries in the page cache's trees (and in the
    /// swap cache's, in v6.1) to carry.
    /// </summary>
    [TestCase("legacy", false, false)]
    [TestCase("fixed", true, false)]
    [TestCase("fixed", true, true)]
    [TestCase("v6.1", true, true)]
    public void EncodeDecode_RestoresTheSameStateFieldByField(string design, bool pcp, bool pressure)
    {
        var options = new SimulationOptions
        {
            MemoryMib = 32, Design = KernelDesign.Parse(design), Cpus = 2, Seed = 9, PerCpuLists = pcp, Reclaim = pressure, SwapMib = pressure ? 8 : 0,
        };
        var parent = new SimRig(options);
        parent.Sim.WorkloadAnon(8);
        parent.Sim.WorkloadFree(0.5, "random", 2);
        if (pressure) parent.Sim.WorkloadFile(16);
        parent.Sim.BalloonInflate(pressure ? 14 : 4);
        parent.Sim.Compact();
        if (pressure) Assert.That(parent.Get<Engine.Mm.PageCache>().NrShadows, Is.Positive, "precondition: evicted page cache");

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

    /// <summary>
    /// A v6.1 guest whose free page reporting has run a pass and scheduled the next (PG_reported blocks, the host's
    /// counts, the device's state and its pending delayed work): as bytes and back, then on the same way.
    /// </summary>
    [Test]
    public void EncodeDecode_FreePageReportingMidway_CarriesItsStateAndGoesOnTheSame()
    {
        var options = new SimulationOptions { MemoryMib = 512, Design = KernelDesign.V6_1, Seed = 9, FreePageReporting = true };
        var parent = new SimRig(options);
        parent.Sim.Run(3000);
        Assert.That(parent.Sim.ReportedFreePages, Is.Positive, "precondition: a pass reported blocks");
        Assert.That(parent.Get<Engine.PageAlloc.V6_1.PageReporting>().Busy, Is.True, "precondition: the next pass is scheduled");

        var child = new SimRig(options);
        child.Sim.Restore(SnapshotCodec.Decode(SnapshotCodec.Encode(parent.Sim.Snapshot())));
        var graph = new StateGraph(options);
        Assert.That(graph.Singletons.SelectMany(s => graph.Differences(parent.Get(s.Service), child.Get(s.Service), s.Class.Name)), Is.Empty);

        parent.Sim.Run(4000);
        child.Sim.Run(4000);
        Assert.That((child.Sim.HostReports, child.Sim.ReportedFreePages), Is.EqualTo((parent.Sim.HostReports, parent.Sim.ReportedFreePages)));
        Assert.That(child.Sim.PageMap(), Is.EqualTo(parent.Sim.PageMap()));
    }

    [Test]
    public void Decode_BytesThatAreNotASnapshot_IsAnArgumentException()
    {
        Assert.That(Assert.Throws<ArgumentException>(() => SnapshotCodec.Decode([1, 2, 3]))!.Message, Does.Contain("snapshot"));
        Assert.Throws<ArgumentException>(() => SnapshotCodec.Decode([]));
    }
}
