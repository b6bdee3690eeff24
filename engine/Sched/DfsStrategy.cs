namespace BalloonScript.Engine.Sched;

/// <summary>
/// Systematic exploration with a preemption bound (iterative context bounding, Musuvathi and Qadeer, PLDI 2007):
/// one run after another, depth first over the decisions, every schedule with at most <c>bound</c>
/// preemptions exactly once. A preemption is switching away from a task that could have gone on; starting a
/// task, or picking the next one after the running task blocked or finished, is free. Without a forced
/// choice the running task continues (else the first runnable one), so bound 0 is run-to-completion order.
/// Use one instance for the whole exploration: <see cref="Advance"/> moves it to the next schedule. With
/// <paramref name="sleepSets"/>, options whose path is asleep are not tried and runs that can only go on with an asleep
/// path are cut short (<see cref="Sched.SleepSets"/>). With <paramref name="units"/>, this search is one of several
/// threads' (<see cref="DfsUnits"/>): it runs the units it claims and cuts the others short (<see cref="Skipping"/>).
/// </summary>
internal sealed class DfsStrategy(int bound, SleepSets? sleepSets = null, DfsUnits? units = null) : IScheduleStrategy
{
    /// <summary>One decision of the last run: the options in the order they are tried (the default first).</summary>
    private sealed record Frame(int[] Order, bool[] Preempts, int PreemptionsBefore, bool[] Asleep)
    {
        public int Position { get; set; }
        public int Chosen => Order[Position];

        /// <summary>Reduction: the default path's step from here and the rest of the state here, if that step may sleep
        /// while an option preempting it is explored (it writes nothing outside pages and locks).</summary>
        public StepFootprint? DefaultStep { get; set; }
        public object[]? Rest { get; set; }

        public bool Open(int p, int bound) => !Asleep[p] && PreemptionsBefore + (Preempts[p] ? 1 : 0) <= bound;
    }

    private readonly List<Frame> _frames = [];
    private int _forced;      // decisions of the next run that replay _frames[0.._forced)
    private int _depth;
    private int _preemptions;
    private IReadOnlyList<int>? _startAt;
    private int _firstPreemption = -1; // the decision of the run's first preemption (-1: none yet)
    private bool _retaking;    // the next run is the last one made again (Retake)
    private long _skippedAtStart;

    public bool Exhausted { get; private set; }

    /// <summary>Split between threads: the unit of the last run (numbered from 0 in search order).</summary>
    public int Unit { get; private set; } = -1;

    /// <summary>Split between threads: the last run's unit is another thread's, so the run was cut short after its first
    /// preemption (or, without one, ran for nothing): it is not a schedule of this search.</summary>
    public bool Skipping { get; private set; }

    /// <summary>How many of the last run's decisions its unit shares: up to its first preemption, else all.</summary>
    public int UnitDecisions => _firstPreemption >= 0 ? _firstPreemption + 1 : _depth;

    /// <summary>The paths the last run chose at the decisions its unit shares (also for a run cut short).</summary>
    public int[] UnitPrefix() => [.. _frames.Take(UnitDecisions).Select(f => f.Chosen)];

    /// <summary>
    /// Begin the search where the serial search meets the schedule whose first decisions are <paramref name="prefix"/>:
    /// each option before the prefix's choice at those decisions counts as tried already (a unit's start, to continue
    /// the serial search from there).
    /// </summary>
    public void StartAt(IReadOnlyList<int> prefix) => _startAt = prefix;

    /// <summary>
    /// After a run that went through the decisions of <paramref name="prefix"/> but its last (there taking the default),
    /// continue the search at <paramref name="prefix"/>'s last choice: the options before it count as tried, and with
    /// sleep sets the default path's step there, recorded in that run, goes to sleep as in the serial search.
    /// </summary>
    public void ContinueAt(IReadOnlyList<int> prefix)
    {
        int last = prefix.Count - 1;
        _frames.RemoveRange(prefix.Count, _frames.Count - prefix.Count);
        _frames[last].Position = Array.IndexOf(_frames[last].Order, prefix[last]);
        _forced = prefix.Count;
        _startAt = null;
    }

    /// <summary>The partial-order reduction of this search, or null (plain bounded DFS).</summary>
    public SleepSets? SleepSets => sleepSets;

    public void Start(IReadOnlyList<SimTask> tasks)
    {
        // A new unit unless Advance changed a decision after the last run's first preemption (or the run is made again).
        if (_retaking) _retaking = false;
        else if (units is not null && (_firstPreemption < 0 || _forced - 1 <= _firstPreemption))
        {
            Unit++;
            Skipping = !units.Claim(Unit);
        }
        _skippedAtStart = sleepSets?.Skipped ?? 0;
        _depth = 0;
        _preemptions = 0;
        _firstPreemption = -1;
    }

    public SimTask? Pick(IReadOnlyList<SimTask> runnable, SimTask current, long step)
    {
        if (Skipping && _firstPreemption >= 0) return null;
        Frame frame;
        if (_depth < _forced)
        {
            frame = _frames[_depth];
        }
        else
        {
            var fresh = NewFrame(runnable, current);
            if (fresh is null) return null;
            frame = fresh;
            if (_depth < _frames.Count) _frames.RemoveRange(_depth, _frames.Count - _depth);
            _frames.Add(frame);
            if (_startAt is not null && _depth < _startAt.Count) frame.Position = Array.IndexOf(frame.Order, _startAt[_depth]);
            if (sleepSets is not null) MaySleep(frame);
        }
        _depth++;
        if (frame.Position > 0 && frame.Preempts[frame.Position] && frame.DefaultStep is { } asleep)
            sleepSets!.PutToSleep(frame.Order[0], asleep, frame.Rest!);
        if (frame.Preempts[frame.Position] && _preemptions++ == 0) _firstPreemption = _depth - 1;
        return SimTask.WithId(runnable, frame.Chosen)
            ?? throw new InvalidOperationException($"dfs diverged at decision {_depth - 1}: task {frame.Chosen} is not runnable");
    }

    /// <summary>
    /// The run made again: the decisions it added are dropped (those it replayed are as they were: a run changes nothing
    /// in them) and so are the options it counted as skipped; its unit stays.
    /// </summary>
    public bool Retake()
    {
        _frames.RemoveRange(_forced, _frames.Count - _forced);
        if (sleepSets is not null) sleepSets.Skipped = _skippedAtStart;
        _retaking = true;
        return true;
    }

    /// <summary>Move to the next schedule: the deepest decision with an untried option within the bound.
    /// False when every schedule within the bound has been run.</summary>
    public bool Advance()
    {
        _startAt = null;
        _frames.RemoveRange(_depth, _frames.Count - _depth);
        for (int d = _frames.Count - 1; d >= 0; d--)
        {
            var f = _frames[d];
            while (++f.Position < f.Order.Length)
            {
                if (!f.Open(f.Position, bound)) continue;
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
                if (f.Open(p, bound)) left++;
        return left;
    }

    /// <summary>The decision's options, the default first: the running path going on, else the first runnable one (with
    /// reduction, the first one awake). Null if every option is asleep.</summary>
    private Frame? NewFrame(IReadOnlyList<SimTask> runnable, SimTask current)
    {
        bool currentGoesOn = current.Started && runnable.Contains(current);
        var asleep = new bool[runnable.Count];
        SimTask? first = currentGoesOn ? current : null;
        for (int i = 0; i < runnable.Count && first is null; i++)
            if (!Blocks(runnable[i])) first = runnable[i];
        if (first is null) return null;
        var order = new int[runnable.Count];
        var preempts = new bool[runnable.Count];
        order[0] = first.Id;
        int n = 1;
        for (int i = 0; i < runnable.Count; i++)
        {
            var t = runnable[i];
            if (t == first) continue;
            preempts[n] = currentGoesOn;
            // An option beyond the bound is never tried: whether it is asleep does not matter.
            asleep[n] = _preemptions + (currentGoesOn ? 1 : 0) <= bound && Blocks(t);
            if (asleep[n]) sleepSets!.Skipped++;
            order[n++] = t.Id;
        }
        return new Frame(order, preempts, _preemptions, asleep);
    }

    private bool Blocks(SimTask t) => sleepSets?.Blocks(t) == true;

    /// <summary>
    /// A new decision whose default preempts nothing but has an option that preempts it, within the bound: record the
    /// default's step (and the rest of the state before and after it), to put it to sleep while that option is explored.
    /// A step that changes state outside pages and locks never sleeps.
    /// </summary>
    private void MaySleep(Frame frame)
    {
        bool preemptible = false;
        for (int p = 1; p < frame.Order.Length; p++) preemptible |= frame.Preempts[p] && frame.Open(p, bound);
        if (!preemptible) return;
        var rest = sleepSets!.Rest();
        sleepSets.AfterNextStep(step =>
        {
            if (step.Global || !SleepSets.SameRest(rest, sleepSets.Rest())) return;
            frame.DefaultStep = step;
            frame.Rest = rest;
        });
    }
}
