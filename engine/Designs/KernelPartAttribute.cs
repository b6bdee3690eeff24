namespace BalloonScript.Engine.Designs;

/// <summary>
/// Names the kernel part a class implements and the version it follows, so a test can check that the
/// composition of each design resolves exactly the versions its <see cref="DesignParts"/> row names.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
internal sealed class KernelPartAttribute(string part, PartVersion version) : Attribute
{
    /// <summary>One of the <see cref="DesignParts.Names"/>.</summary>
    public string Part { get; } = part;
    public PartVersion Version { get; } = version;
}
