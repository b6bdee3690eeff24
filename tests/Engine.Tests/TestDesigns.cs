using BalloonScript.Engine.Designs;

namespace BalloonScript.Engine.Tests;

/// <summary>The design names tests run over (<c>[ValueSource(typeof(TestDesigns), nameof(TestDesigns.Names))]</c>): the engine's list, never a copy.</summary>
internal static class TestDesigns
{
    public static IEnumerable<string> Names => KernelDesign.Names;

    /// <summary>The designs as one comma-separated list, as error messages print them.</summary>
    public static string Listed => string.Join(", ", KernelDesign.Names);
}
