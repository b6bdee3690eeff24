namespace BalloonScript.Engine.Snapshots;

/// <summary>
/// Marks a field (or auto-property) of a stateful part that a snapshot deliberately leaves out: wiring set once at
/// construction, a scratch buffer, or the record of the last run. <paramref name="why"/> says which.
/// </summary>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property, Inherited = false)]
internal sealed class NotStateAttribute(string why) : Attribute
{
    public string Why { get; } = why;
}
