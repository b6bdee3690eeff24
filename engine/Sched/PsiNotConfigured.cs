namespace BalloonScript.Engine.Sched;

/// <summary>The kernels before 4.20 (v3.16 to v4.8 here) have no PSI (no CONFIG_PSI, no /proc/pressure): nothing is accounted.</summary>
internal sealed class PsiNotConfigured : IPsi
{
    public static PsiNotConfigured Instance { get; } = new();

    private PsiNotConfigured() { }

    public void TaskStarts(SimTask task) { }

    public bool TaskEnds(SimTask task) => false;

    public void TaskSleeps(SimTask task, bool iowait) { }

    public void TaskWakes(SimTask task) { }

    public PsiMemstall Memstall() => default;
}
