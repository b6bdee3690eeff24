using BalloonScript.Engine.Snapshots;
using BalloonScript.Engine.Workload;

namespace BalloonScript.Engine.Reclaim;

/// <summary>
/// mm/vmscan.c's <c>shrinker_list</c>, each shrinker with its <c>nr_deferred</c> (scan work asked for and not done,
/// carried to the next call): first the slab cache's (registered at boot), then what drivers register at their probe
/// (<c>register_shrinker</c> adds at the tail; only a virtio balloon that negotiated VIRTIO_BALLOON_F_FREE_PAGE_HINT
/// registers one here). 6.1's shrink_slab walks it; v3.16's reclaim has its own, of the slab cache alone.
/// </summary>
internal sealed class ShrinkerList : ISnapshotState
{
    [NotState("registered at boot and at the driver's probe, fixed for the simulation")]
    private readonly List<IShrinker> _shrinkers = [];

    private long[] _nrDeferred = [];

    public ShrinkerList(ReclaimableSlab cache) => Register(cache);

    public void Register(IShrinker shrinker)
    {
        _shrinkers.Add(shrinker);
        Array.Resize(ref _nrDeferred, _shrinkers.Count);
    }

    public int Count => _shrinkers.Count;

    public IShrinker this[int i] => _shrinkers[i];

    /// <summary>Shrinker <paramref name="i"/>'s nr_deferred.</summary>
    public long GetNrDeferred(int i) => _nrDeferred[i];

    public void SetNrDeferred(int i, long value) => _nrDeferred[i] = value;

    public object Save() => _nrDeferred.Clone();

    public void Restore(object saved) => ((long[])saved).CopyTo(_nrDeferred, 0);
}
