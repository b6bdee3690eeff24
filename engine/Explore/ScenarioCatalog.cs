namespace BalloonScript.Engine.Explore;

/// <summary>The scenarios users can run by name (bs.explore("deflate-vs-isolate", ...)).</summary>
internal static class ScenarioCatalog
{
    public static readonly ScenarioSpec[] All = [];

    public static string[] Names => All.Select(s => s.Name).ToArray();

    public static ScenarioSpec Find(string name) =>
        All.FirstOrDefault(s => s.Name == name)
        ?? throw new ArgumentException($"scenario must be one of {string.Join(", ", Names)}, got '{name}'", "scenario");
}
