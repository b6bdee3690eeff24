namespace BalloonScript.Engine.Sched;

/// <summary>
/// The simulated call path of one kernel path (function names, outermost first), kept so sanitizer
/// reports can say where they fired. <c>using var _ = path.Enter("fn");</c> pushes and pops.
/// </summary>
internal sealed class CallPath
{
    private readonly string[] _frames = new string[64];
    private int _depth;

    public Frame Enter(string function)
    {
        if (_depth < _frames.Length) _frames[_depth] = function;
        _depth++;
        return new Frame(this);
    }

    public string[] Snapshot() => _frames.AsSpan(0, Math.Min(_depth, _frames.Length)).ToArray();

    public readonly struct Frame(CallPath path) : IDisposable
    {
        public void Dispose() => path._depth--;
    }
}
