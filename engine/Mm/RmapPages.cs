using System.Runtime.CompilerServices;
using BalloonScript.Engine.Sched;
using BalloonScript.Engine.Snapshots;

namespace BalloonScript.Engine.Mm;

/// <summary>
/// What <see cref="Rmap"/> keeps per PFN: whether the page's PTE is young (one accessed bit per mapped page), and how
/// many migration entries stand for the page while it is migrated. Apart from <see cref="Rmap"/> so that partial-order
/// reduction records each access by PFN, as it records <c>struct page</c> (<see cref="StepAccesses"/>), rather than
/// comparing the arrays whole.
/// </summary>
internal sealed class RmapPages(PageTable pages, Scheduler scheduler) : ISnapshotState
{
    private readonly bool[] _young = new bool[pages.NrPages];
    private readonly int[] _migrationEntries = new int[pages.NrPages];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Young(int pfn)
    {
        if (StepAccesses.Compiled) scheduler.Accesses?.Read(pfn);
        return _young[pfn];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void SetYoung(int pfn, bool young)
    {
        if (StepAccesses.Compiled) scheduler.Accesses?.Write(pfn);
        _young[pfn] = young;
    }

    public int MigrationEntries(int pfn)
    {
        if (StepAccesses.Compiled) scheduler.Accesses?.Read(pfn);
        return _migrationEntries[pfn];
    }

    public void SetMigrationEntries(int pfn, int entries)
    {
        if (StepAccesses.Compiled) scheduler.Accesses?.Write(pfn);
        _migrationEntries[pfn] = entries;
    }

    public object Save() => (_migrationEntries.Clone(), _young.Clone());

    public void Restore(object saved)
    {
        var (entries, young) = ((object, object))saved;
        ((int[])entries).CopyTo(_migrationEntries, 0);
        ((bool[])young).CopyTo(_young, 0);
    }
}
