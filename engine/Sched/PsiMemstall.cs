namespace BalloonScript.Engine.Sched;

/// <summary>
/// An open psi_memstall_enter: disposing it is the matching psi_memstall_leave. The default value is the nested (or
/// unaccounted) enter, whose leave does nothing: only the outermost pair of a task changes its state.
/// </summary>
internal readonly struct PsiMemstall(Psi? psi, SimTask? task) : IDisposable
{
    public void Dispose() => psi?.MemstallLeave(task!);
}
