using CsCheck;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests;

/// <summary>
/// CsCheck generators driven from fixed PCG streams, so a property test sees the same inputs on every run
/// (the project's rule: randomness only from an explicit seed). A failing input is then shrunk with CsCheck's
/// <c>Sample</c>, started from its seed; the failure names the original input and the smallest failing one found.
/// For a longer campaign, <c>BALLOONSCRIPT_PROPERTY_SCALE=N</c> runs N times the inputs and
/// <c>BALLOONSCRIPT_PROPERTY_SEED=S</c> replaces each test's seed (still deterministic: the same variables, the same inputs).
/// </summary>
internal static class Property
{
    /// <summary>How many smaller inputs Sample tries when shrinking a failure.</summary>
    private const int ShrinkIterations = 500;

    private static readonly int Scale = int.TryParse(Environment.GetEnvironmentVariable("BALLOONSCRIPT_PROPERTY_SCALE"), out int n) && n > 0 ? n : 1;
    private static readonly ulong? Seed = ulong.TryParse(Environment.GetEnvironmentVariable("BALLOONSCRIPT_PROPERTY_SEED"), out ulong s) ? s : null;

    public static void ForAll<T>(Gen<T> gen, int iterations, ulong seed, Action<T> assert)
    {
        seed = Seed ?? seed;
        for (uint stream = 0; stream < iterations * Scale; stream++)
        {
            var pcg = new PCG(stream, seed);
            string replaySeed = pcg.ToString();
            var input = gen.Generate(pcg, null!, out _);
            try
            {
                assert(input);
            }
            catch (Exception e)
            {
                throw new AssertionException($"property failed for CsCheck seed \"{replaySeed}\", input {CsCheck.Check.Print(input)}: {e.Message}\n"
                    + $"shrunk: {Shrink(gen, assert, replaySeed)}", e);
            }
        }
    }

    /// <summary>The smallest failing input CsCheck's Sample finds from <paramref name="failingSeed"/> (one thread, a bounded search).</summary>
    private static string Shrink<T>(Gen<T> gen, Action<T> assert, string failingSeed)
    {
        try
        {
            gen.Sample(assert, seed: failingSeed, iter: ShrinkIterations, threads: 1);
            return "the seed did not fail again";
        }
        catch (CsCheckException shrunk)
        {
            return shrunk.Message;
        }
    }
}
