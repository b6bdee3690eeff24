using System.Collections.Generic;
using System.Linq;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;

namespace BalloonScript.Generators;

/// <summary>
/// Gives every method marked <c>[Preemptible]</c> an async twin, <c>NameAsync</c>, written from the same body: each call
/// in it to another preemptible method becomes an await of that method's twin. A switching run that runs its simulated
/// CPUs as continuations on one thread (<c>Scheduler</c>) calls the twins; every other run calls the methods as written,
/// so the kernel paths are written once and the run to completion pays nothing for the twins.
/// <para>
/// Rules. The type holding a preemptible method is partial. A member without a body (an interface's, an abstract one)
/// gets a twin that calls it synchronously: an implementation that is preemptible itself gets its own twin, which the
/// interface's dispatches to; one that is not runs synchronously, and a switch it reaches ends the continuation run
/// (the scheduler re-runs the schedule on threads). A preemptible call inside a lambda or a local function stays
/// synchronous the same way. An override of a preemptible method with a body must be preemptible too (else its twin
/// would silently run the base's body): error BSG003. A twin cannot have ref, out or in parameters: error BSG002.
/// </para>
/// <para>
/// A delegate parameter marked <c>[Preemptible]</c> (a callback that can reach a preemption point: migrate_pages'
/// get_new_page, a list walk's step) is an async delegate in the twin (<c>Func&lt;T, R&gt;</c> becomes
/// <c>Func&lt;T, ValueTask&lt;R&gt;&gt;</c>, <c>Action&lt;T&gt;</c> <c>Func&lt;T, ValueTask&gt;</c>) and its calls are
/// awaited. A twin passes it a lambda made async, with the calls in it awaited, or the twin of a preemptible method
/// group; anything else is error BSG005. An interface or abstract member with such a parameter gets an abstract twin.
/// </para>
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class AsyncTwinGenerator : IIncrementalGenerator
{
    public const string AttributeName = "BalloonScript.Engine.Sched.PreemptibleAttribute";

    private static readonly DiagnosticDescriptor NotPartial = new("BSG001", "Type of a preemptible method is not partial",
        "'{0}' holds a [Preemptible] method and must be declared partial (its async twin is generated into it)", "AsyncTwin",
        DiagnosticSeverity.Error, true);

    private static readonly DiagnosticDescriptor ByRef = new("BSG002", "Preemptible method with a by-reference parameter",
        "[Preemptible] method '{0}' has a ref, out or in parameter, which an async twin cannot have", "AsyncTwin",
        DiagnosticSeverity.Error, true);

    private static readonly DiagnosticDescriptor UnmarkedOverride = new("BSG003", "Override of a preemptible method is not preemptible",
        "'{0}' overrides a [Preemptible] method and must be [Preemptible] too (its twin would run the base's body)", "AsyncTwin",
        DiagnosticSeverity.Error, true);

    private static readonly DiagnosticDescriptor ConditionalCall = new("BSG004", "Conditional call of a preemptible method",
        "'{0}' is called with a null-conditional access in [Preemptible] method '{1}', which its twin cannot await, so test for null explicitly", "AsyncTwin",
        DiagnosticSeverity.Error, true);

    private static readonly DiagnosticDescriptor DelegateArgument = new("BSG005", "Preemptible callback that is neither a lambda nor a preemptible method",
        "The argument for [Preemptible] parameter '{0}' of '{1}' must be a lambda or a [Preemptible] method, which its twin can make async", "AsyncTwin",
        DiagnosticSeverity.Error, true);

    private static readonly DiagnosticDescriptor CallbackMember = new("BSG006", "Preemptible callback used other than by a call",
        "[Preemptible] callback '{0}' of '{1}' is used through a member (Invoke, ?.), which its twin would not await: call it as {0}(...) after a null test", "AsyncTwin",
        DiagnosticSeverity.Error, true);

    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var twins = context.SyntaxProvider.ForAttributeWithMetadataName(AttributeName,
            static (node, _) => node is MethodDeclarationSyntax,
            static (ctx, _) => Twin((MethodDeclarationSyntax)ctx.TargetNode, (IMethodSymbol)ctx.TargetSymbol, ctx.SemanticModel));
        context.RegisterSourceOutput(twins, static (spc, twin) =>
        {
            foreach (var d in twin.Diagnostics) spc.ReportDiagnostic(d);
            if (twin.Source is not null) spc.AddSource(twin.HintName, SourceText.From(twin.Source, Encoding.UTF8));
        });

        var overrides = context.SyntaxProvider.CreateSyntaxProvider(
            static (node, _) => node is MethodDeclarationSyntax m && m.Modifiers.Any(SyntaxKind.OverrideKeyword),
            static (ctx, _) =>
            {
                var symbol = ctx.SemanticModel.GetDeclaredSymbol((MethodDeclarationSyntax)ctx.Node) as IMethodSymbol;
                return symbol is not null && !HasAttribute(symbol) && symbol.OverriddenMethod is { } overridden
                       && IsPreemptible(overridden) && !overridden.IsAbstract
                    ? Diagnostic.Create(UnmarkedOverride, ctx.Node.GetLocation(), symbol.ToDisplayString())
                    : null;
            });
        context.RegisterSourceOutput(overrides, static (spc, d) =>
        {
            if (d is not null) spc.ReportDiagnostic(d);
        });
    }

    /// <summary>What one preemptible method gives: its twin's source (null if it cannot have one) and the diagnostics.</summary>
    private sealed class TwinSource
    {
        public string HintName = "";
        public string? Source;
        public List<Diagnostic> Diagnostics = new();
    }

    internal static bool HasAttribute(ISymbol symbol) =>
        symbol.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == AttributeName);

    /// <summary>Marked itself, or overriding a marked method, or a marked extension method called as one.</summary>
    internal static bool IsPreemptible(IMethodSymbol method)
    {
        for (var m = method.ReducedFrom ?? method.OriginalDefinition; m is not null; m = m.OverriddenMethod)
            if (HasAttribute(m)) return true;
        return false;
    }

    private static TwinSource Twin(MethodDeclarationSyntax method, IMethodSymbol symbol, SemanticModel model)
    {
        var result = new TwinSource
        {
            // Named by the method's signature, which stays put when code moves: Sched.Scheduler.Preempt_string_int.g.cs.
            HintName = new string($"{symbol.ContainingType.ToDisplayString().Replace("BalloonScript.Engine.", "")}.{symbol.Name}_{string.Join("_", symbol.Parameters.Select(p => p.Type.ToDisplayString().Replace("BalloonScript.Engine.", "")))}"
                .Select(c => char.IsLetterOrDigit(c) || c == '.' ? c : '_').ToArray()) + ".g.cs",
        };
        foreach (var type in method.Ancestors().OfType<TypeDeclarationSyntax>())
            if (!type.Modifiers.Any(SyntaxKind.PartialKeyword))
                result.Diagnostics.Add(Diagnostic.Create(NotPartial, type.Identifier.GetLocation(), type.Identifier.Text));
        if (method.ParameterList.Parameters.Any(p => p.Modifiers.Any(m => m.IsKind(SyntaxKind.RefKeyword) || m.IsKind(SyntaxKind.OutKeyword) || m.IsKind(SyntaxKind.InKeyword))))
            result.Diagnostics.Add(Diagnostic.Create(ByRef, method.Identifier.GetLocation(), symbol.ToDisplayString()));
        if (result.Diagnostics.Count > 0 || HasHandWrittenTwin(symbol)) return result;

        string twin = method.Body is not null || method.ExpressionBody is not null ? AwaitingTwin(method, symbol, model, result.Diagnostics)
            : symbol.Parameters.Any(HasAttribute) ? AbstractTwin(method, symbol)
            : SyncCallingTwin(method, symbol);
        result.Source = Wrap(method, twin);
        return result;
    }

    /// <summary>The type declares the twin itself (the scheduler's switch, where a path parks): nothing to generate.</summary>
    private static bool HasHandWrittenTwin(IMethodSymbol symbol) =>
        symbol.ContainingType.GetMembers(symbol.Name + "Async").OfType<IMethodSymbol>()
            .Any(m => m.Parameters.Select(p => p.Type).SequenceEqual(symbol.Parameters.Select(p => p.Type), SymbolEqualityComparer.Default));

    private static string ReturnType(IMethodSymbol symbol, MethodDeclarationSyntax method) =>
        symbol.ReturnsVoid ? "global::System.Threading.Tasks.ValueTask" : $"global::System.Threading.Tasks.ValueTask<{method.ReturnType.ToString()}>";

    /// <summary>The signature of the twin of <paramref name="method"/>, after <paramref name="modifiers"/>.</summary>
    private static string Signature(MethodDeclarationSyntax method, IMethodSymbol symbol, string modifiers) =>
        $"{modifiers}{ReturnType(symbol, method)} {method.ExplicitInterfaceSpecifier?.ToString()}{method.Identifier.Text}Async" +
        $"{method.TypeParameterList?.ToString()}({string.Join(", ", method.ParameterList.Parameters.Select((p, i) => Parameter(p, symbol.Parameters[i])))}) " +
        string.Join(" ", method.ConstraintClauses.Select(c => c.ToString()));

    /// <summary>A parameter as the twin takes it: a preemptible delegate as its async form, anything else as written.</summary>
    private static string Parameter(ParameterSyntax syntax, IParameterSymbol parameter) =>
        !HasAttribute(parameter) ? syntax.ToString()
        : $"{string.Join(" ", syntax.Modifiers.Select(m => m.Text))} {AsyncDelegate(parameter.Type)} {syntax.Identifier.Text}{syntax.Default?.ToString()}";

    /// <summary><c>Func&lt;A, R&gt;</c> as <c>Func&lt;A, ValueTask&lt;R&gt;&gt;</c>, <c>Action&lt;A&gt;</c> as <c>Func&lt;A, ValueTask&gt;</c> (nullability kept).</summary>
    private static string AsyncDelegate(ITypeSymbol type)
    {
        var named = (INamedTypeSymbol)type;
        var args = named.TypeArguments.Select(t => t.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat.WithMiscellaneousOptions(
            SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier | SymbolDisplayMiscellaneousOptions.UseSpecialTypes))).ToList();
        bool isAction = named.Name == "Action";
        string result = isAction ? "global::System.Threading.Tasks.ValueTask" : $"global::System.Threading.Tasks.ValueTask<{args[args.Count - 1]}>";
        var inputs = isAction ? args : args.Take(args.Count - 1).ToList();
        inputs.Add(result);
        return $"global::System.Func<{string.Join(", ", inputs)}>{(type.NullableAnnotation == NullableAnnotation.Annotated ? "?" : "")}";
    }

    /// <summary>A member without a body that takes a preemptible callback: its implementations must all have twins.</summary>
    private static string AbstractTwin(MethodDeclarationSyntax method, IMethodSymbol symbol)
    {
        var modifiers = new StringBuilder();
        foreach (var m in method.Modifiers)
            if (!m.IsKind(SyntaxKind.PartialKeyword)) modifiers.Append(m.Text).Append(' ');
        return $"    {Signature(method, symbol, modifiers.ToString())};";
    }

    /// <summary>A member without a body (interface, abstract): a twin that calls it, for implementations without twins of their own.</summary>
    private static string SyncCallingTwin(MethodDeclarationSyntax method, IMethodSymbol symbol)
    {
        var modifiers = new StringBuilder();
        foreach (var m in method.Modifiers)
            if (m.IsKind(SyntaxKind.PublicKeyword) || m.IsKind(SyntaxKind.InternalKeyword) || m.IsKind(SyntaxKind.ProtectedKeyword) || m.IsKind(SyntaxKind.PrivateKeyword))
                modifiers.Append(m.Text).Append(' ');
        if (method.Modifiers.Any(SyntaxKind.AbstractKeyword)) modifiers.Append("virtual ");
        string args = string.Join(", ", method.ParameterList.Parameters.Select(p => p.Identifier.Text));
        string call = $"{method.Identifier.Text}{method.TypeParameterList?.ToString()}({args})";
        string body = symbol.ReturnsVoid ? $"{{ {call}; return default; }}" : $"=> new {ReturnType(symbol, method)}({call});";
        return $"    /// <summary>Runs the synchronous member: an implementation without a twin of its own switches on threads only.</summary>\n" +
               $"    {Signature(method, symbol, modifiers.ToString())}\n    {body}";
    }

    private static string AwaitingTwin(MethodDeclarationSyntax method, IMethodSymbol symbol, SemanticModel model, List<Diagnostic> diagnostics)
    {
        var rewriter = new AwaitRewriter(model, symbol, diagnostics);
        if (TailCall(method, symbol, model) is { } tail && rewriter.Visit(tail) is AwaitExpressionSyntax
            {
                Expression: InvocationExpressionSyntax { Expression: MemberAccessExpressionSyntax { Expression: InvocationExpressionSyntax twinCall } }
            } && !twinCall.DescendantNodes().OfType<AwaitExpressionSyntax>().Any())
        {
            // Nothing but a call of another preemptible method of the same result: the twin returns that twin's task, no
            // state machine of its own (a forwarding method, an interface's implementation calling the real one).
            var plain = new StringBuilder();
            foreach (var m in method.Modifiers)
                if (!m.IsKind(SyntaxKind.AsyncKeyword) && !m.IsKind(SyntaxKind.PartialKeyword) && !m.IsKind(SyntaxKind.ExternKeyword))
                    plain.Append(m.Text).Append(' ');
            return $"    {Signature(method, symbol, plain.ToString())}\n        => {twinCall.ToFullString().Trim()};";
        }
        BlockSyntax body = method.Body is { } block
            ? (BlockSyntax)rewriter.Visit(block)
            : SyntaxFactory.Block(symbol.ReturnsVoid
                ? SyntaxFactory.ExpressionStatement((ExpressionSyntax)rewriter.Visit(method.ExpressionBody!.Expression))
                : SyntaxFactory.ReturnStatement(SyntaxFactory.Token(SyntaxKind.ReturnKeyword).WithTrailingTrivia(SyntaxFactory.Space),
                    (ExpressionSyntax)rewriter.Visit(method.ExpressionBody!.Expression), SyntaxFactory.Token(SyntaxKind.SemicolonToken)));
        var modifiers = new StringBuilder();
        foreach (var m in method.Modifiers)
            if (!m.IsKind(SyntaxKind.AsyncKeyword) && !m.IsKind(SyntaxKind.PartialKeyword) && !m.IsKind(SyntaxKind.ExternKeyword))
                modifiers.Append(m.Text).Append(' ');
        modifiers.Append("async ");
        string builder = symbol.ReturnsVoid
            ? "global::BalloonScript.Engine.Sched.TwinMethodBuilder"
            : "global::BalloonScript.Engine.Sched.TwinMethodBuilder<>";
        return $"    [global::System.Runtime.CompilerServices.AsyncMethodBuilder(typeof({builder}))]\n" +
               $"    {Signature(method, symbol, modifiers.ToString())}\n    {body.ToFullString()}";
    }

    /// <summary>
    /// The body's only call, if the body is nothing but one call of a preemptible method returning what this method returns
    /// (<c>=&gt; x.F(a)</c>, <c>{ return x.F(a); }</c>, <c>{ x.F(a); }</c> for a void F and method), outside any
    /// <c>?.</c>; else null.
    /// </summary>
    private static InvocationExpressionSyntax? TailCall(MethodDeclarationSyntax method, IMethodSymbol symbol, SemanticModel model)
    {
        var expression = method.ExpressionBody?.Expression ?? (method.Body is { Statements.Count: 1 } block ? block.Statements[0] switch
        {
            ReturnStatementSyntax r => r.Expression,
            ExpressionStatementSyntax e => e.Expression,
            _ => null,
        } : null);
        if (expression is not InvocationExpressionSyntax call || model.GetSymbolInfo(call).Symbol is not IMethodSymbol target
            || !IsPreemptible(target) || call.Expression is MemberBindingExpressionSyntax) return null;
        bool same = symbol.ReturnsVoid ? target.ReturnsVoid : SymbolEqualityComparer.IncludeNullability.Equals(symbol.ReturnType, target.ReturnType);
        return same ? call : null;
    }

    /// <summary>The twin inside the namespace and the (partial) types that hold the method, with its file's usings.</summary>
    private static string Wrap(MethodDeclarationSyntax method, string twin)
    {
        var text = new StringBuilder("// <auto-generated>the async twin of a [Preemptible] method (AsyncTwinGenerator)</auto-generated>\n");
        text.Append("#nullable enable\n#pragma warning disable CS1998, CS1591\n");
        var unit = method.SyntaxTree.GetCompilationUnitRoot();
        foreach (var u in unit.Usings) text.Append(u.ToString()).Append('\n');
        var ns = method.Ancestors().OfType<BaseNamespaceDeclarationSyntax>().FirstOrDefault();
        if (ns is not null)
        {
            text.Append("namespace ").Append(ns.Name.ToString()).Append(";\n");
            foreach (var u in ns.Usings) text.Append(u.ToString()).Append('\n');
        }
        var types = method.Ancestors().OfType<TypeDeclarationSyntax>().Reverse().ToList();
        foreach (var type in types)
        {
            string kind = type switch
            {
                RecordDeclarationSyntax r => r.ClassOrStructKeyword.IsKind(SyntaxKind.StructKeyword) ? "record struct" : "record",
                _ => type.Keyword.Text,
            };
            text.Append($"partial {kind} {type.Identifier.Text}{type.TypeParameterList?.ToString()}\n{{\n");
        }
        text.Append(twin).Append('\n');
        foreach (var _ in types) text.Append("}\n");
        return text.ToString();
    }

    /// <summary>Turns each call of a preemptible method into an await of its twin (outside lambdas and local functions).</summary>
    private sealed class AwaitRewriter(SemanticModel model, IMethodSymbol owner, List<Diagnostic> diagnostics) : CSharpSyntaxRewriter
    {
        private int _nested;
        /// <summary>Lambdas passed for preemptible delegate parameters: made async, their calls awaited.</summary>
        private readonly HashSet<SyntaxNode> _asyncLambdas = new();
        /// <summary>Method groups passed for preemptible delegate parameters: their twins are passed.</summary>
        private readonly HashSet<SyntaxNode> _twinGroups = new();
        /// <summary>Cached method groups (<c>x ??= M</c>) passed for preemptible delegate parameters: <c>MAsync</c> is passed.</summary>
        private readonly HashSet<SyntaxNode> _cachedGroups = new();

        public override SyntaxNode? VisitAssignmentExpression(AssignmentExpressionSyntax node) =>
            _cachedGroups.Contains(node) && node.Right is IdentifierNameSyntax group
                ? group.WithIdentifier(Async(group.Identifier)).WithTriviaFrom(node)
                : base.VisitAssignmentExpression(node);

        public override SyntaxNode? VisitInvocationExpression(InvocationExpressionSyntax node)
        {
            var target = model.GetSymbolInfo(node).Symbol as IMethodSymbol;
            if (target is not null && _nested == 0 && IsPreemptible(target)) MarkCallbacks(node, target);
            var visited = (InvocationExpressionSyntax)base.VisitInvocationExpression(node)!;
            // A call of a preemptible callback parameter: awaited as it is (its type is the async delegate in the twin).
            if (_nested == 0 && node.Expression is IdentifierNameSyntax && model.GetSymbolInfo(node.Expression).Symbol is IParameterSymbol callback
                && HasAttribute(callback))
                return Await(visited, node);
            if (target is null || _nested > 0 || !IsPreemptible(target)) return visited;
            ExpressionSyntax? callee = visited.Expression switch
            {
                IdentifierNameSyntax id => id.WithIdentifier(Async(id.Identifier)),
                GenericNameSyntax g => g.WithIdentifier(Async(g.Identifier)),
                MemberAccessExpressionSyntax { Name: IdentifierNameSyntax id } ma => ma.WithName(id.WithIdentifier(Async(id.Identifier))),
                MemberAccessExpressionSyntax { Name: GenericNameSyntax g } ma => ma.WithName(g.WithIdentifier(Async(g.Identifier))),
                _ => null,
            };
            if (callee is null || InConditionalAccess(visited.Expression))
            {
                diagnostics.Add(Diagnostic.Create(ConditionalCall, node.GetLocation(), target.Name, owner.ToDisplayString()));
                return visited;
            }
            return Await(visited.WithExpression(callee), node);
        }

        /// <summary>
        /// The arguments of a call of <paramref name="target"/> for its preemptible delegate parameters: lambdas are to be
        /// made async, preemptible method groups passed as their twins; anything else cannot be.
        /// </summary>
        private void MarkCallbacks(InvocationExpressionSyntax node, IMethodSymbol target)
        {
            var parameters = (target.ReducedFrom is not null ? target.ReducedFrom.Parameters.Skip(1) : target.Parameters).ToList();
            var args = node.ArgumentList.Arguments;
            for (int i = 0; i < args.Count; i++)
            {
                var parameter = args[i].NameColon is { } named ? parameters.FirstOrDefault(p => p.Name == named.Name.Identifier.Text)
                    : i < parameters.Count ? parameters[i] : null;
                if (parameter is null || !HasAttribute(parameter)) continue;
                var expression = args[i].Expression;
                if (expression is LambdaExpressionSyntax) _asyncLambdas.Add(expression);
                // A delegate cached in a field (_drain ??= PagevecLruAdd): the twin passes the method's twin instead.
                else if (expression is AssignmentExpressionSyntax { RawKind: (int)SyntaxKind.CoalesceAssignmentExpression } cached
                         && model.GetSymbolInfo(cached.Right).Symbol is IMethodSymbol cachedGroup && IsPreemptible(cachedGroup))
                    _cachedGroups.Add(expression);
                else if (model.GetSymbolInfo(expression).Symbol is IParameterSymbol passedOn && HasAttribute(passedOn)) continue;
                else if (model.GetSymbolInfo(expression).Symbol is IMethodSymbol group && IsPreemptible(group) && expression is IdentifierNameSyntax or MemberAccessExpressionSyntax)
                    _twinGroups.Add(expression);
                else if (!expression.IsKind(SyntaxKind.NullLiteralExpression))
                    diagnostics.Add(Diagnostic.Create(DelegateArgument, expression.GetLocation(), parameter.Name, target.ToDisplayString()));
            }
        }

        public override SyntaxNode? VisitIdentifierName(IdentifierNameSyntax node)
        {
            if (_twinGroups.Contains(node)) return node.WithIdentifier(Async(node.Identifier));
            // p.Invoke(..) or p?.Invoke(..) of a preemptible callback would call the async delegate without awaiting it.
            if (node.Parent is MemberAccessExpressionSyntax or ConditionalAccessExpressionSyntax
                && model.GetSymbolInfo(node).Symbol is IParameterSymbol callback && HasAttribute(callback))
                diagnostics.Add(Diagnostic.Create(CallbackMember, node.GetLocation(), callback.Name, owner.ToDisplayString()));
            return base.VisitIdentifierName(node);
        }

        public override SyntaxNode? VisitMemberAccessExpression(MemberAccessExpressionSyntax node)
        {
            var visited = (MemberAccessExpressionSyntax)base.VisitMemberAccessExpression(node)!;
            return _twinGroups.Contains(node) && visited.Name is IdentifierNameSyntax id ? visited.WithName(id.WithIdentifier(Async(id.Identifier))) : visited;
        }

        /// <summary><c>await call.ConfigureAwait(false)</c> (a continuation never goes through a synchronization context).</summary>
        private static ExpressionSyntax Await(InvocationExpressionSyntax call, InvocationExpressionSyntax original)
        {
            var configured = SyntaxFactory.InvocationExpression(
                SyntaxFactory.MemberAccessExpression(SyntaxKind.SimpleMemberAccessExpression,
                    call.WithoutTrivia(), SyntaxFactory.IdentifierName("ConfigureAwait")),
                SyntaxFactory.ArgumentList(SyntaxFactory.SingletonSeparatedList(
                    SyntaxFactory.Argument(SyntaxFactory.LiteralExpression(SyntaxKind.FalseLiteralExpression)))));
            ExpressionSyntax awaited = SyntaxFactory.AwaitExpression(SyntaxFactory.Token(SyntaxKind.AwaitKeyword).WithTrailingTrivia(SyntaxFactory.Space), configured);
            // A statement of its own stays bare (a parenthesized expression is no statement); elsewhere it is parenthesized.
            if (original.Parent is not (ExpressionStatementSyntax or ArrowExpressionClauseSyntax or LambdaExpressionSyntax)) awaited = SyntaxFactory.ParenthesizedExpression(awaited);
            return awaited.WithTriviaFrom(call);
        }

        public override SyntaxNode? VisitParenthesizedLambdaExpression(ParenthesizedLambdaExpressionSyntax node) =>
            _asyncLambdas.Contains(node) ? MadeAsync((LambdaExpressionSyntax)base.VisitParenthesizedLambdaExpression(node)!)
            : Nested(node, base.VisitParenthesizedLambdaExpression);

        public override SyntaxNode? VisitSimpleLambdaExpression(SimpleLambdaExpressionSyntax node) =>
            _asyncLambdas.Contains(node) ? MadeAsync((LambdaExpressionSyntax)base.VisitSimpleLambdaExpression(node)!)
            : Nested(node, base.VisitSimpleLambdaExpression);

        private static SyntaxNode MadeAsync(LambdaExpressionSyntax lambda) =>
            lambda.WithAsyncKeyword(SyntaxFactory.Token(SyntaxKind.AsyncKeyword).WithTrailingTrivia(SyntaxFactory.Space));

        public override SyntaxNode? VisitAnonymousMethodExpression(AnonymousMethodExpressionSyntax node) => Nested(node, base.VisitAnonymousMethodExpression);
        public override SyntaxNode? VisitLocalFunctionStatement(LocalFunctionStatementSyntax node) => Nested(node, base.VisitLocalFunctionStatement);

        private SyntaxNode? Nested<T>(T node, System.Func<T, SyntaxNode?> visit)
        {
            _nested++;
            try { return visit(node); }
            finally { _nested--; }
        }

        /// <summary>The callee hangs off a <c>?.</c> (its leftmost part is a member binding): no await can go in there.</summary>
        private static bool InConditionalAccess(ExpressionSyntax callee)
        {
            while (true)
            {
                switch (callee)
                {
                    case MemberAccessExpressionSyntax ma: callee = ma.Expression; continue;
                    case InvocationExpressionSyntax inv: callee = inv.Expression; continue;
                    case ElementAccessExpressionSyntax ea: callee = ea.Expression; continue;
                    default: return callee is MemberBindingExpressionSyntax;
                }
            }
        }

        private static SyntaxToken Async(SyntaxToken name) => SyntaxFactory.Identifier(name.LeadingTrivia, name.Text + "Async", name.TrailingTrivia);
    }
}
