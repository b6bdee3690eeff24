namespace BalloonScript.Engine.Explore.Ops;

/// <summary>
/// One parameter of a race operation: its name as Python spells it, the kind of value (<c>int</c>, <c>real</c> or
/// <c>text</c>), its default as text (null = required) and one line on what it means. Python builds <c>bs.op</c> from these.
/// </summary>
public sealed record OpParam(string Name, string Type, string? Default, string Help);
