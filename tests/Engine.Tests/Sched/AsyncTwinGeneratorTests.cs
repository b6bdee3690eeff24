using System.Collections.Immutable;
using BalloonScript.Generators;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using NUnit.Framework;

namespace BalloonScript.Engine.Tests.Sched;

/// <summary>
/// The async-twin generator run on small sources of its own: what a twin awaits, what it leaves synchronous, and the
/// errors it reports for what it cannot twin (generators/AsyncTwinGenerator.cs).
/// </summary>
public class AsyncTwinGeneratorTests
{
    /// <summary>
    /// What the compilation references: what the sources use (the platform's core and the engine). Binding against every
    /// platform assembly cost about 1.6 CPU-s more for the ten tests, most of it the JIT compiling Roslyn's readers.
    /// </summary>
    private static readonly HashSet<string> Referenced = ["System.Private.CoreLib", "System.Runtime", "BalloonScript.Engine"];

    /// <summary>
    /// The generator's diagnostics, its sources, and the errors of the compilation with them. The compilation takes this
    /// assembly's name, so that the engine's internals it uses (the attribute, the twins' method builder) are visible to
    /// it as they are to these tests.
    /// </summary>
    private static (ImmutableArray<Diagnostic> Reported, string Generated, Diagnostic[] Errors) Run(string source)
    {
        var references = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(path => Referenced.Contains(Path.GetFileNameWithoutExtension(path)))
            .Select(path => MetadataReference.CreateFromFile(path));
        var compilation = CSharpCompilation.Create(typeof(AsyncTwinGeneratorTests).Assembly.GetName().Name,
            [CSharpSyntaxTree.ParseText("using BalloonScript.Engine.Sched;\n" + source)],
            references, new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        var driver = CSharpGeneratorDriver.Create(new AsyncTwinGenerator()).RunGeneratorsAndUpdateCompilation(compilation, out var output, out var reported);
        string generated = string.Join("\n", driver.GetRunResult().GeneratedTrees.Select(t => t.ToString()));
        return (reported, generated, [.. output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error)]);
    }

    private static string[] Ids(ImmutableArray<Diagnostic> reported) => [.. reported.Select(d => d.Id)];

    [Test]
    public void Twin_AwaitsThePreemptibleCalls_LeavesTheOthers_AndCompiles()
    {
        var (reported, generated, errors) = Run("""
            partial class Path
            {
                [Preemptible] public int Outer(int x) { Plain(); Inner(); return Value(x) + 1; }
                [Preemptible] public void Inner() { }
                [Preemptible] public int Value(int x) => x;
                public void Plain() { }
            }
            """);

        Assert.That(reported, Is.Empty);
        Assert.That(errors, Is.Empty, string.Join("\n", errors.Select(e => e.ToString())));
        Assert.That(generated, Does.Contain("await InnerAsync().ConfigureAwait(false);"));
        Assert.That(generated, Does.Contain("(await ValueAsync(x).ConfigureAwait(false)) + 1"));
        Assert.That(generated, Does.Contain("Plain();").And.Not.Contain("PlainAsync"));
    }

    [Test]
    public void Forwarder_ReturnsTheOtherTwinsTask_WithoutAStateMachine()
    {
        var (_, generated, errors) = Run("""
            partial class Path
            {
                [Preemptible] public int Forward(int x) => Value(x);
                [Preemptible] public int Value(int x) => x;
            }
            """);

        Assert.That(errors, Is.Empty);
        Assert.That(generated, Does.Contain("ValueTask<int> ForwardAsync(int x)").And.Contain("=> ValueAsync(x);"));
    }

    [Test]
    public void PreemptibleCallback_BecomesAnAsyncDelegate_AndItsLambdaAnAsyncLambda()
    {
        var (reported, generated, errors) = Run("""
            using System;
            partial class Path
            {
                [Preemptible] public int Walk([Preemptible] Func<int, bool> step) { for (int i = 0; i < 3; i++) if (step(i)) return i; return -1; }
                [Preemptible] public int Caller() => Walk(i => Try(i));
                [Preemptible] public bool Try(int i) => i == 2;
            }
            """);

        Assert.That(reported, Is.Empty);
        Assert.That(errors, Is.Empty, string.Join("\n", errors.Select(e => e.ToString())));
        Assert.That(generated, Does.Contain("global::System.Func<int, global::System.Threading.Tasks.ValueTask<bool>> step"));
        Assert.That(generated, Does.Contain("await step(i).ConfigureAwait(false)"));
        Assert.That(generated, Does.Contain("async i => await TryAsync(i)"));
    }

    [Test]
    public void InterfaceMember_GetsATwinThatCallsIt_ForImplementationsWithoutTwins()
    {
        var (_, generated, errors) = Run("""
            partial interface IPath { [Preemptible] int Step(int x); }
            class Plain : IPath { public int Step(int x) => x; }
            """);

        Assert.That(errors, Is.Empty);
        Assert.That(generated, Does.Contain("ValueTask<int> StepAsync(int x)").And.Contain("(Step(x))"));
    }

    [TestCase("class Path { [Preemptible] public void A() { } }", "BSG001")]
    [TestCase("partial class Path { [Preemptible] public void A(ref int x) { } }", "BSG002")]
    [TestCase("partial class Base { [Preemptible] public virtual void A() { } } partial class Derived : Base { public override void A() { } }", "BSG003")]
    [TestCase("partial class Path { [Preemptible] public void A(Path? p) { p?.B(); } [Preemptible] public void B() { } }", "BSG004")]
    [TestCase("partial class Path { [Preemptible] public void A([Preemptible] System.Action f) { f(); } [Preemptible] public void B() { System.Action g = () => { }; A(g); } }", "BSG005")]
    [TestCase("partial class Path { [Preemptible] public void A([Preemptible] System.Action? f) { f?.Invoke(); } }", "BSG006")]
    public void WhatCannotBeTwinned_IsAnError(string source, string id)
    {
        var (reported, _, _) = Run(source);

        Assert.That(Ids(reported), Does.Contain(id));
        Assert.That(reported.Where(d => d.Id == id).Select(d => d.Severity), Is.All.EqualTo(DiagnosticSeverity.Error));
    }
}
