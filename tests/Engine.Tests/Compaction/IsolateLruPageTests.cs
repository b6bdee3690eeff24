using BalloonScript.Engine.Mm;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Compaction;

/// <summary>__isolate_lru_page (v3.16 mm/vmscan.c) as the migrate scanner calls it.</summary>
public class IsolateLruPageTests
{
    private static (Rig rig, int page) FilePage(MigratePageOp op)
    {
        var rig = Rig.Create(64);
        rig.Sim.WorkloadFile(1);
        int page = rig.Pages.Kind.IndexOf((byte)PageKind.File);
        rig.Pages.Mapping[page] = rig.Get<MappingTable>().NewAddressSpace(migratePage: op);
        return (rig, page);
    }

    // (a_ops->migratepage, isolate mode, result): MigratePageOp.None = 0, Generic = 1; ISOLATE_ASYNC_MIGRATE = 8.
    [TestCase(0, 8, -16)]
    [TestCase(1, 8, 0)]
    [TestCase(0, 0, 0)]
    public void IsolateLruPage_v3_16_AsyncRefusesDirtyPagesWhoseMappingCannotMigrate(int op, int isolateMode, int expected)
    {
        var mode = (IsolateMode)isolateMode;
        var (rig, page) = FilePage((MigratePageOp)op);
        rig.Pages.Set(page, PG.Dirty);

        int rc = rig.Get<Lru>().IsolateLruPageLocked(page, mode);

        Assert.That(rc, Is.EqualTo(expected));
        Assert.That(rig.Pages.Count[page], Is.EqualTo(expected == 0 ? 2 : 1), "success takes a reference");
        Assert.That(rig.Pages.PageLru(page), Is.EqualTo(expected != 0), "success clears PG_lru");
    }

    [Test]
    public void IsolateLruPage_v3_16_AsyncRefusesWritebackAndEveryModeRefusesUnevictable()
    {
        var (rig, page) = FilePage(MigratePageOp.Generic);
        var lru = rig.Get<Lru>();
        rig.Pages.Set(page, PG.Writeback);
        Assert.That(lru.IsolateLruPageLocked(page, IsolateMode.AsyncMigrate), Is.EqualTo(-16));
        rig.Pages.Clear(page, PG.Writeback);
        rig.Pages.Set(page, PG.Unevictable);
        Assert.That(lru.IsolateLruPageLocked(page, IsolateMode.None), Is.EqualTo(-22));
        Assert.That(lru.IsolateLruPageLocked(page, IsolateMode.Unevictable), Is.Zero);
    }
}
