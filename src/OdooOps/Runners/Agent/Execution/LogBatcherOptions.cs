namespace OdooOps.Runners.Agent.Execution;

internal sealed record LogBatcherOptions
{
    public int MaxBatchLines { get; init; } = 200;

    /// <summary>How long the first waiting line may wait for more lines before a batch goes out anyway.</summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromMilliseconds(250);

    public TimeSpan FirstRetryDelay { get; init; } = TimeSpan.FromMilliseconds(500);
    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Applied to every line's text before it is numbered and sent (the build's <see cref="SecretMask"/>).</summary>
    public Func<string, string>? Redact { get; init; }

    /// <summary>The wait before re-sending, from the failure and the back-off's own wait (the runner waits out a server's Retry-After).</summary>
    public Func<Exception, TimeSpan, TimeSpan>? RetryDelay { get; init; }

    /// <summary>How long disposing waits for the last lines to be sent before giving them up.</summary>
    public TimeSpan DisposeTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The most lines held at once, waiting or being sent: past it, new lines are dropped and counted.</summary>
    public int MaxHeldLines { get; init; } = 10_000;

    /// <summary>The most bytes of line text held at once (2 a character, as .NET holds text): 8 MiB.</summary>
    public long MaxHeldBytes { get; init; } = 8L << 20;

    /// <summary>Where the batcher reports what it held and dropped (a runner's or a test's; none by default).</summary>
    public LogQueueMeter? Meter { get; init; }
}
