namespace BalloonScript.Engine.Sched;

/// <summary>
/// A PSI trigger (6.1 kernel/sched/psi.c: <c>struct psi_trigger</c> with its <c>psi_window</c>): what writing
/// "some|full &lt;threshold_us&gt; &lt;window_us&gt;" to a /proc/pressure file creates. Its window tracks how much the
/// state's stall total (the poll aggregator's) grew; an update that finds it grew by the threshold or more makes an event,
/// at most one per window. Times and totals are nanoseconds, unsigned as in the kernel.
/// </summary>
internal sealed class PsiTrigger(int state, ulong threshold, ulong windowSize)
{
    /// <summary>The psi_states index it watches (resource * 2 + full).</summary>
    public int State { get; } = state;

    public ulong Threshold { get; } = threshold;

    public ulong WindowSize { get; } = windowSize;

    // psi_window: where the current window started, the total then, and the growth of the window before it.
    private ulong _startTime, _startValue, _prevGrowth;

    /// <summary>The event flag a poll sees (EPOLLPRI) and clears.</summary>
    public bool Event { get; set; }

    /// <summary>A growth past the threshold that the once-per-window limit has held back.</summary>
    public bool PendingEvent { get; set; }

    public ulong LastEventTime { get; set; }

    /// <summary>The simulated time of every event the trigger made, in order.</summary>
    public List<long> EventTimes { get; private init; } = [];

    /// <summary>
    /// psi_trigger_create's <c>sscanf(buf, "some %u %u")</c>, then "full": lib/vsprintf.c's vsscanf matches the word
    /// exactly from the first character, lets a blank in the format match any run of blanks, none included, and reads
    /// each %u after skipping blanks as decimal digits only (no sign), accumulated in a u64 and stored into a u32
    /// (larger numbers wrap); anything after the second number is ignored. False unless both numbers were read.
    /// </summary>
    public static bool TryScan(string text, out bool full, out uint thresholdUs, out uint windowUs)
    {
        (thresholdUs, windowUs) = (0, 0);
        full = text.StartsWith("full", StringComparison.Ordinal);
        if (!full && !text.StartsWith("some", StringComparison.Ordinal)) return false;
        int at = 4;
        return ScanUnsigned(text, ref at, out thresholdUs) && ScanUnsigned(text, ref at, out windowUs);
    }

    /// <summary>One " %u" of vsscanf: blanks skipped, then at least one decimal digit.</summary>
    private static bool ScanUnsigned(string text, ref int at, out uint value)
    {
        ulong result = 0;
        while (at < text.Length && IsSpace(text[at])) at++;
        int start = at;
        for (; at < text.Length && text[at] is >= '0' and <= '9'; at++) result = unchecked(result * 10 + (ulong)(text[at] - '0'));
        value = (uint)result;
        return at > start;
    }

    /// <summary>The kernel's isspace: space, \t, \n, \v, \f, \r.</summary>
    private static bool IsSpace(char c) => c == ' ' || c is >= '\t' and <= '\r';

    /// <summary>window_reset.</summary>
    public void ResetWindow(ulong now, ulong value, ulong prevGrowth) =>
        (_startTime, _startValue, _prevGrowth) = (now, value, prevGrowth);

    /// <summary>
    /// window_update: the growth since the window started; past the window's end a new window starts at
    /// <paramref name="now"/> (the growth so far becoming its prev_growth), else the previous window's growth is added
    /// in proportion to the part of the window still ahead, as if it had been linear. The kernel keeps that part in a
    /// u32, so while more than 2^32 ns (about 4.3 s) of the window remain it wraps; the product with the previous growth
    /// is a u64, wrapping as the kernel's does.
    /// </summary>
    public ulong UpdateWindow(ulong now, ulong value)
    {
        ulong elapsed = now - _startTime, growth = value - _startValue;
        if (elapsed > WindowSize)
        {
            ResetWindow(now, value, growth);
            return growth;
        }
        uint remaining = (uint)(WindowSize - elapsed);
        return growth + _prevGrowth * remaining / WindowSize;
    }

    /// <summary>A copy, for a snapshot.</summary>
    public PsiTrigger Clone() => new(State, Threshold, WindowSize)
    {
        _startTime = _startTime, _startValue = _startValue, _prevGrowth = _prevGrowth, Event = Event,
        PendingEvent = PendingEvent, LastEventTime = LastEventTime, EventTimes = [.. EventTimes],
    };
}
