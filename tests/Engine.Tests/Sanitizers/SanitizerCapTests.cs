using BalloonScript.Engine.Sanitizers;
using BalloonScript.Engine.Sched;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Sanitizers;

public class SanitizerCapTests
{
    [Test]
    public void Report_BeyondTheCapOfItsKind_IsCountedButNotKept()
    {
        var options = new SimulationOptions { MaxReportsPerKind = 3 };
        var sanitizer = new Sanitizer(new Scheduler(options, new Engine.Sched.FatalSignal()), options);

        for (int i = 0; i < 10; i++) sanitizer.Report(ReportKind.BalloonUnmovable, i, $"unmovable {i}");
        sanitizer.Report(ReportKind.Kasan, 99, "one read");

        Assert.That(sanitizer.CountOf(ReportKind.BalloonUnmovable), Is.EqualTo(10));
        Assert.That(sanitizer.CountOf(ReportKind.Kasan), Is.EqualTo(1), "another kind has its own cap");
        Assert.That(sanitizer.Reports.Select(r => r.Pfn), Is.EqualTo(new long[] { 0, 1, 2, 99 }), "the first of each kind, in order");
        Assert.That(sanitizer.Counts().Sum(), Is.EqualTo(11));
    }

    [TestCase(0)]
    [TestCase(-5)]
    public void MaxReportsPerKind_BelowOne_IsRejectedByName(int cap)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new SimulationOptions { MaxReportsPerKind = cap }.Validate());
        Assert.That(e!.Message, Does.Contain("max_reports_per_kind"));
    }
}
