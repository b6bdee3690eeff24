namespace BalloonScript.Engine.Sched;

/// <summary>
/// Systematic exploration with a preemption bound (iterative context bounding, Musuvathi and Qadeer, PLDI 2007):
/// one run after another, depth first over the decisions, every schedule with at most <c>bound</c>
/// preemptions exactly once. A preemption is switching away from a task that could have gone on; starting a
/// task, or picking the next one after the running task blocked or finished, is free. Without a forced
/// choice the running task continues (else the first runnable one), so bound 0 is run-to-completion order.
/// Use one instance for the whole exploration: <see cref="Advance"/> moves it to the next schedule.
/// </summary>
internal sealed class DfsStrategy(int bound) : IScheduleStrategy
{
    /// <summary>One decision of the last run: the options in the order they are tried (the default first).</summary>
    private sealed record Frame(int[] Order, bool[] Preempts, int PreemptionsBefore)
    {
        public int Position { get; set; }
        public int Chosen => Order[Position];
    }

    private readonly List<Frame> _frames = [];
    private int _forced;      // decisions of the next run that replay _frames[0.._forced)
    private int _depth;
    private int _preemptions;

    public bool Exhausted { get; private set; }

    public void Start(IReadOnlyList<SimTask> tasks)
    {
        _depth = 0;
        _preemptions = 0;
    }

    public SimTask Pick(IReadOnlyList<SimTask> runnable, SimTask current, long step)
    {
        Frame frame;
        if (_depth < _forced)
        {
            frame = _frames[_depth];
        }
        else
        {
            frame = NewFrame(runnable, current);
            if (_depth < _frames.Count) _frames.RemoveRange(_depth, _frames.Count - _depth);
            _frames.Add(frame);
        }
        _depth++;
        if (frame.Preempts[frame.Position]) _preemptions++;
        foreach (var t in runnable)
            if (t.Id == frame.Chosen) return t;
        throw new InvalidOperationException($"dfs diverged at decision {_depth - 1}: task {frame.Chosen} is not runnable");
    }

    /// <summary>Move to the next schedule: the deepest decision with an untried option within the bound.
    /// False when every schedule within the bound has been run.</summary>
    public bool Advance()
    {
        _frames.RemoveRange(_depth, _frames.Count - _depth);
        for (int d = _frames.Count - 1; d >= 0; d--)
        {
            var f = _frames[d];
            while (++f.Position < f.Order.Length)
            {
                if (f.PreemptionsBefore + (f.Preempts[f.Position] ? 1 : 0) > bound) continue;
                _frames.RemoveRange(d + 1, _frames.Count - d - 1);
                _forced = d + 1;
                return true;
            }
            _frames.RemoveAt(d);
        }
        Exhausted = true;
        return false;
    }

    /// <summary>
    /// After <see cref="Advance"/> found a next schedule: how many schedules within the bound are left, at least (the
    /// next one, and one for each untried choice within the bound above it on the stack).
    /// </summary>
    public long SchedulesLeftAtLeast()
    {
        long left = Exhausted ? 0 : 1;
        foreach (var f in _frames.Take(_forced))
            for (int p = f.Position + 1; p < f.Order.Length; p++)
                if (f.PreemptionsBefore + (f.Preempts[p] ? 1 : 0) <= bound) left++;
        return left;
    }

    private Frame NewFrame(IReadOnlyList<SimTask> runnable, SimTask current)
    {
        bool currentGoesOn = current.Started && runnable.Contains(current);
        var first = currentGoesOn ? current : runnable[0];
        var order = new int[runnable.Count];
        var preempts = new bool[runnable.Count];
        order[0] = first.Id;
        int n = 1;
        foreach (var t in runnable)
        {
            if (t == first) continue;
            preempts[n] = currentGoesOn;
            order[n++] = t.Id;
        }
        return new Frame(order, preempts, _preemptions);
    }
}
