namespace OdooOps.Runners.Agent.Execution;

/// <summary>The stream names a build log line carries (the values ops.build_logs.stream accepts).</summary>
internal static class LogStream
{
    public const string Stdout = "stdout";
    public const string Stderr = "stderr";
    /// <summary>Lines the runner writes itself, such as the git commands it runs.</summary>
    public const string System = "system";
}

/// <summary>One complete line of a process's output, stamped when the line was complete.</summary>
public sealed record OutputLine(string Stream, string Text, DateTimeOffset Timestamp);
