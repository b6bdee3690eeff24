using BalloonScript.Engine.Printk;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Printk;

/// <summary>
/// The kernel log's __ratelimit as dmesg shows it: lib/ratelimit.c as 6.1 has it (a new interval begins at
/// the call that ends the old one; v3.16 zeroed <c>begin</c> there, so its next interval began at the next call —
/// docs/model.md names the difference).
/// </summary>
public class KernelLogTests
{
    private static (SimRig Rig, KernelLog Log) Guest()
    {
        var rig = new SimRig(TestOptions.Classic(16));
        return (rig, rig.Get<KernelLog>());
    }

    /// <summary>
    /// ___ratelimit: a burst of 10 per 5 s; a new interval begins only once the old one is strictly over, and begins by
    /// printing "&lt;function&gt;: N callbacks suppressed" for the messages it dropped.
    /// </summary>
    [Test]
    public void Ratelimit_BurstOf10Per5s_ThenSaysHowManyWereSuppressed()
    {
        var (rig, log) = Guest();
        var allowed = Enumerable.Range(0, 12).Select(_ => log.Ratelimit("warn_alloc_failed")).ToArray();
        Assert.That(allowed.Count(a => a), Is.EqualTo(10));
        Assert.That(allowed[10..], Is.All.False);

        rig.Sim.Run(5000);
        Assert.That(log.Ratelimit("warn_alloc_failed"), Is.False, "exactly 5 s later the interval is not over yet");
        rig.Sim.Run(1);
        Assert.That(log.Ratelimit("warn_alloc_failed"), Is.True);
        Assert.That(rig.Sim.Dmesg(), Does.EndWith("] warn_alloc_failed: 3 callbacks suppressed\n"));
    }

    /// <summary>6.1's warn_alloc has nopage_rs of its own: DEFINE_RATELIMIT_STATE(nopage_rs, 10*HZ, 1).</summary>
    [Test]
    public void Ratelimit_v6_1_WarnAlloc_OneMessagePer10s()
    {
        var (rig, log) = Guest();
        Assert.That(log.Ratelimit("warn_alloc", 10_000_000_000, 1), Is.True);
        rig.Sim.Run(9000);
        Assert.That(log.Ratelimit("warn_alloc", 10_000_000_000, 1), Is.False);
        rig.Sim.Run(1001);
        Assert.That(log.Ratelimit("warn_alloc", 10_000_000_000, 1), Is.True);
        Assert.That(rig.Sim.Dmesg(), Does.Contain("warn_alloc: 1 callbacks suppressed"));
    }
}
