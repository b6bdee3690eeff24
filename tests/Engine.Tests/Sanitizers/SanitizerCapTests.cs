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

    [Test]
    public void Report_BeyondTheCapOfItsKind_DoesNotBuildItsMessage()
    {
        var options = new SimulationOptions { MaxReportsPerKind = 2 };
        var sanitizer = new Sanitizer(new Scheduler(options, new Engine.Sched.FatalSignal()), options);
        int formatted = 0;
        string Dump(int i)
        {
            formatted++;
            return $"dump {i}";
        }

        for (int i = 0; i < 5; i++) sanitizer.Report(ReportKind.BadPage, i, $"bad page {i:x5} ({Dump(i)})");

        Assert.That(formatted, Is.EqualTo(2), "only the messages of the reports kept are formatted");
        Assert.That(sanitizer.Reports.Select(r => r.Message), Is.EqualTo(new[] { "bad page 00000 (dump 0)", "bad page 00001 (dump 1)" }));
        Assert.That(sanitizer.CountOf(ReportKind.BadPage), Is.EqualTo(5));
    }

    [TestCase(0)]
    [TestCase(-5)]
    public void MaxReportsPerKind_BelowOne_IsRejectedByName(int cap)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new SimulationOptions { MaxReportsPerKind = cap }.Validate());
        Assert.That(e!.Message, Does.Contain("max_reports_per_kind"));
    }
}
