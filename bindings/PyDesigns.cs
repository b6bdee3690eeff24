using BalloonScript.Engine.Designs;

namespace BalloonScript.Bindings;

/// <summary>The kernel designs for Python: names, kernels, commits, summaries and part versions as parallel arrays (fresh copies).</summary>
public static class PyDesigns
{
    public static string[] Names() => KernelDesign.Names;
    public static string[] Kernels() => KernelDesign.All.Select(d => d.Kernel).ToArray();
    public static string[] Commits() => KernelDesign.All.Select(d => d.Commit).ToArray();
    public static string[] Summaries() => KernelDesign.All.Select(d => d.Summary).ToArray();

    /// <summary>The part names, in the order of <see cref="PartVersions(string)"/>.</summary>
    public static string[] PartNames() => [.. DesignParts.Names];

    /// <summary>The version of each part of design <paramref name="design"/>, as tables print it.</summary>
    public static string[] PartVersions(string design) =>
        KernelDesign.Parse(design).Parts.Versions.Select(v => v.Display()).ToArray();
}
