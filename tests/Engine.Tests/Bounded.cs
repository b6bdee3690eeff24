using NUnit.Framework;

namespace BalloonScript.Engine.Tests;

/// <summary>
/// A body a bug could keep from ending (a corrupted list walked, a scanner that never meets the other, a scheduler that
/// loses a baton) runs on another thread, so that the test fails instead of hanging the whole run.
/// </summary>
internal static class Bounded
{
    /// <summary>
    /// Run <paramref name="body"/> and return what it returns (rethrowing what it threw); fail, naming
    /// <paramref name="what"/>, if it has not ended within <paramref name="seconds"/>.
    /// </summary>
    public static T Run<T>(Func<T> body, string what, int seconds = 30)
    {
        var task = Task.Run(body);
        if (!((IAsyncResult)task).AsyncWaitHandle.WaitOne(TimeSpan.FromSeconds(seconds))) Assert.Fail($"{what} did not end within {seconds} s");
        return task.GetAwaiter().GetResult();
    }

    /// <inheritdoc cref="Run{T}"/>
    public static void Run(Action body, string what, int seconds = 30) => Run(() =>
    {
        body();
        return 0;
    }, what, seconds);
}
