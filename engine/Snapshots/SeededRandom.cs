namespace BalloonScript.Engine.Snapshots;

/// <summary>
/// A seeded <see cref="Random"/> whose state is (seed, draws so far), so a snapshot can save and restore it: a
/// restore recreates the generator and skips the draws. Draws are rare where it is used (garbage values of
/// KASAN reads), so the skip is cheap.
/// </summary>
internal sealed class SeededRandom(int seed) : ISnapshotState
{
    private Random _random = new(seed);
    private long _draws;

    public long NextInt64()
    {
        _draws++;
        return _random.NextInt64();
    }

    public object Save() => _draws;

    public void Restore(object saved)
    {
        long draws = (long)saved;
        if (draws == _draws) return;
        _random = new Random(seed);
        for (_draws = 0; _draws < draws; _draws++) _random.NextInt64();
    }
}
