namespace BalloonScript.Engine;

/// <summary>
/// Argument checks in one place (NodaTime's Preconditions style). Every message names the argument,
/// the value given and the allowed range, so a Python user sees what to change.
/// </summary>
internal static class Check
{
    public static long InRange(long value, string name, long min, long max)
    {
        if (value < min || value > max)
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be in [{min}, {max}], got {value}");
        return value;
    }

    public static double InRange(double value, string name, double min, double max)
    {
        if (double.IsNaN(value) || value < min || value > max)
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be in [{min}, {max}], got {value}");
        return value;
    }

    public static string OneOf(string? value, string name, params string[] allowed)
    {
        if (value is null || Array.IndexOf(allowed, value) < 0)
            throw new ArgumentException($"{name} must be one of {string.Join(", ", allowed)}, got '{value}'", name);
        return value;
    }

    public static int OneOf(int value, string name, params int[] allowed)
    {
        if (Array.IndexOf(allowed, value) < 0)
            throw new ArgumentException($"{name} must be one of {string.Join(", ", allowed)}, got {value}", name);
        return value;
    }

    public static void That(bool condition, string name, string message)
    {
        if (!condition) throw new ArgumentException($"{name}: {message}", name);
    }
}
