using NUnit.Framework;

namespace BalloonScript.Engine.Tests;

/// <summary>The repository's documentation, for tests that check it says what the engine does.</summary>
internal static class RepoDocs
{
    /// <summary>The folder that holds BalloonScript.sln, above the test's output folder.</summary>
    public static string Root()
    {
        for (var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "BalloonScript.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("BalloonScript.sln above the test directory");
    }

    /// <summary>A document under the root (<paramref name="relativePath"/>), its whitespace runs made single spaces, so a
    /// phrase matches however the text is wrapped.</summary>
    public static string Flattened(string relativePath) =>
        string.Join(' ', File.ReadAllText(Path.Combine(Root(), relativePath)).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
}
