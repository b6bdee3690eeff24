using CsCheck;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests;

/// <summary>
/// CsCheck generators driven from fixed PCG streams, so a property test sees the same inputs on every run
/// (the project's rule: randomness only from an explicit seed). A failure names the CsCheck seed of the input;
/// <c>gen.Sample(assert, seed: "...")</c> replays it and shrinks it.
/// </summary>
internal static class Property
{
    public static void ForAll<T>(Gen<T> gen, int iterations, ulong seed, Action<T> assert)
    {
        for (uint stream = 0; stream < iterations; stream++)
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
                throw new AssertionException($"property failed for CsCheck seed \"{replaySeed}\", input {CsCheck.Check.Print(input)}: {e.Message}", e);
            }
        }
    }
}
