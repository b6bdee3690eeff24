using BalloonScript.Engine.Sched;

namespace BalloonScript.Engine.Explore;

/// <summary>One kernel path of a race: a fresh <see cref="SimTask"/> is made from it for every schedule.</summary>
internal sealed record TaskTemplate(int Id, int Cpu, string Name, Action Body, Func<ValueTask>? AsyncBody = null)
{
    public SimTask NewTask() => new(Id, Cpu, Name, Body, AsyncBody);
}
