using System.Runtime.CompilerServices;

namespace BalloonScript.Engine.Sched;

/// <summary>
/// The method builder of the async twins (<see cref="PreemptibleAttribute"/>): the pooling builder's, but a twin starts
/// without saving and restoring the thread's execution context (a thread-local read each way), which a twin, called
/// thousands of times a run and never touching an AsyncLocal or a synchronization context, does not need.
/// </summary>
internal struct TwinMethodBuilder
{
    private PoolingAsyncValueTaskMethodBuilder _pooling;

    public static TwinMethodBuilder Create() => new() { _pooling = PoolingAsyncValueTaskMethodBuilder.Create() };

    public void Start<TStateMachine>(ref TStateMachine stateMachine) where TStateMachine : IAsyncStateMachine => stateMachine.MoveNext();

    public void SetStateMachine(IAsyncStateMachine stateMachine) => _pooling.SetStateMachine(stateMachine);
    public void SetResult() => _pooling.SetResult();
    public void SetException(Exception exception) => _pooling.SetException(exception);
    public ValueTask Task => _pooling.Task;

    public void AwaitOnCompleted<TAwaiter, TStateMachine>(ref TAwaiter awaiter, ref TStateMachine stateMachine)
        where TAwaiter : INotifyCompletion where TStateMachine : IAsyncStateMachine => _pooling.AwaitOnCompleted(ref awaiter, ref stateMachine);

    public void AwaitUnsafeOnCompleted<TAwaiter, TStateMachine>(ref TAwaiter awaiter, ref TStateMachine stateMachine)
        where TAwaiter : ICriticalNotifyCompletion where TStateMachine : IAsyncStateMachine => _pooling.AwaitUnsafeOnCompleted(ref awaiter, ref stateMachine);
}

/// <summary><see cref="TwinMethodBuilder"/> for twins with a result.</summary>
internal struct TwinMethodBuilder<TResult>
{
    private PoolingAsyncValueTaskMethodBuilder<TResult> _pooling;

    public static TwinMethodBuilder<TResult> Create() => new() { _pooling = PoolingAsyncValueTaskMethodBuilder<TResult>.Create() };

    public void Start<TStateMachine>(ref TStateMachine stateMachine) where TStateMachine : IAsyncStateMachine => stateMachine.MoveNext();

    public void SetStateMachine(IAsyncStateMachine stateMachine) => _pooling.SetStateMachine(stateMachine);
    public void SetResult(TResult result) => _pooling.SetResult(result);
    public void SetException(Exception exception) => _pooling.SetException(exception);
    public ValueTask<TResult> Task => _pooling.Task;

    public void AwaitOnCompleted<TAwaiter, TStateMachine>(ref TAwaiter awaiter, ref TStateMachine stateMachine)
        where TAwaiter : INotifyCompletion where TStateMachine : IAsyncStateMachine => _pooling.AwaitOnCompleted(ref awaiter, ref stateMachine);

    public void AwaitUnsafeOnCompleted<TAwaiter, TStateMachine>(ref TAwaiter awaiter, ref TStateMachine stateMachine)
        where TAwaiter : ICriticalNotifyCompletion where TStateMachine : IAsyncStateMachine => _pooling.AwaitUnsafeOnCompleted(ref awaiter, ref stateMachine);
}
