namespace BalloonScript.Engine.Explore;

/// <summary>
/// One failing schedule of an exploration, kept small: which schedule, the decisions that replay it, its preemptions
/// and what failed (<see cref="ScheduleRun.Signature"/>). <see cref="Race.Replay"/> replays it in full.
/// <para>
/// The decisions are kept as runs of one task (<see cref="ChoiceRuns"/>: task id, then how many decisions in a row chose
/// it): a long race with a few preemptions takes tens of thousands of decisions but only a few runs, and an exploration
/// keeps every failing schedule. A DFS of 1,000 schedules of two compactions in a 32 MiB legacy guest (33,000 decisions
/// each, every one failing on defect 2) peaked at 2 GB from Python with one number per decision, 178 MB with runs.
/// </para>
/// </summary>
public sealed record FailureRecord(int Index, int[] ChoiceRuns, int Preemptions, string Signature, string[] Kinds)
{
    /// <summary>The decisions, one task id each (what <see cref="Race.Replay"/> takes), decoded from <see cref="ChoiceRuns"/>.</summary>
    public int[] Choices
    {
        get
        {
            int count = 0;
            for (int i = 1; i < ChoiceRuns.Length; i += 2) count += ChoiceRuns[i];
            var choices = new int[count];
            for (int i = 0, at = 0; i < ChoiceRuns.Length; at += ChoiceRuns[i + 1], i += 2)
                choices.AsSpan(at, ChoiceRuns[i + 1]).Fill(ChoiceRuns[i]);
            return choices;
        }
    }

    /// <summary>The runs of <paramref name="choices"/>: task id and length of each stretch of equal decisions, in order.</summary>
    public static int[] Runs(IReadOnlyList<int> choices)
    {
        var runs = new List<int>();
        for (int i = 0; i < choices.Count; )
        {
            int start = i;
            while (i < choices.Count && choices[i] == choices[start]) i++;
            runs.Add(choices[start]);
            runs.Add(i - start);
        }
        return [.. runs];
    }
}
