namespace BalloonScript.Engine.Sched;

/// <summary>
/// Pressure stall information (kernel/sched/psi.c, 4.20+): what the scheduler and the memory paths tell it. A task
/// counts from the time a path starts until it ends (as a task between its wake-up and its sleep); a path that sleeps
/// (a timer wait, a read, a lock's wait, time let pass) counts as asleep meanwhile, in <c>io_schedule</c> for a read and
/// for a wait on a page's lock or writeback. Kernels before 4.20 have none
/// (<see cref="PsiNotConfigured"/>); 6.1's is <see cref="Psi"/>. Explored races (switching runs) are not accounted:
/// their time is the schedule's steps, not a timeline of CPUs.
/// </summary>
internal interface IPsi
{
    /// <summary>A path begins on its CPU (psi_enqueue of a woken task, then on the CPU).</summary>
    void TaskStarts(SimTask task);

    /// <summary>A path ends (its task sleeps until woken again); false if it was not counted.</summary>
    bool TaskEnds(SimTask task);

    /// <summary>The path sleeps (psi_task_switch's voluntary sleep; in <c>io_schedule</c> if <paramref name="iowait"/>).</summary>
    void TaskSleeps(SimTask task, bool iowait);

    /// <summary>The path wakes from its sleep (psi_enqueue on wake-up).</summary>
    void TaskWakes(SimTask task);

    /// <summary>psi_memstall_enter for the running path; its <see cref="PsiMemstall.Dispose"/> is psi_memstall_leave.</summary>
    PsiMemstall Memstall();
}
