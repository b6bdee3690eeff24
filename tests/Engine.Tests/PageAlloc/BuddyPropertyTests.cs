using BalloonScript.Engine.PageAlloc;
using BalloonScript.Engine.PageAlloc.V3_16;
using CsCheck;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.PageAlloc;

/// <summary>Properties of the v3.16 buddy allocator over arbitrary sequences of allocations and frees.</summary>
public class BuddyPropertyTests
{
    /// <summary>Kind 0 or 1: allocate 2^Order pages of type Type; kind 2: free the live block picked by Pick.</summary>
    public readonly record struct Step(int Kind, int Order, int Type, int Pick);

    private static readonly Gfp[] Types = [Gfp.Kernel, Gfp.Kernel | Gfp.Reclaimable, Gfp.HighUserMovable];

    private static readonly Gen<Step[]> Steps =
        Gen.Select(Gen.Int[0, 2], Gen.Int[0, 10], Gen.Int[0, 2], Gen.Int[0, 1 << 20], (k, o, t, p) => new Step(k, o, t, p)).Array[1, 150];

    [Test]
    public void BuddyAllocator_v316_NrFreeMatchesNrFreePagesAndFreeingAllRestoresBoot()
    {
        Property.ForAll(Steps, 60, 20140803, steps =>
        {
            var h = new Harness(16);
            var zone = h.Zone("DMA");
            string boot = h.Sim.Buddyinfo();
            var live = new List<(int Pfn, int Order)>();
            foreach (var step in steps)
            {
                if (step.Kind < 2)
                {
                    int pfn = h.Buddy.GetPageFromFreelist(step.Order, Types[step.Type], AllocFlags.WmarkMin);
                    if (pfn >= 0) live.Add((pfn, step.Order));
                }
                else if (live.Count > 0)
                {
                    var (pfn, order) = live[step.Pick % live.Count];
                    live.RemoveAt(step.Pick % live.Count);
                    h.Release(pfn, order);
                }
                Assert.That(Harness.NrFreePagesInAreas(zone), Is.EqualTo(zone.FreePages), "Σ nr_free·2^order = NR_FREE_PAGES");
            }
            foreach (var (pfn, order) in live) h.Release(pfn, order);

            Assert.That(h.Sim.Buddyinfo(), Is.EqualTo(boot));
            Assert.That(zone.FreePages, Is.EqualTo(zone.SpannedPages));
            h.Sim.CheckInvariants();
            Assert.That(h.Sanitizer.Reports, Is.Empty);
        });
    }
}
