namespace OdooOps.Runners.Agent.Sandbox;

/// <summary>How one process runs in a build's sandbox (<see cref="BuildSandbox.Run"/>): which workspace, whether it may go out.</summary>
internal sealed record SandboxRun(BuildSandbox Sandbox, string Workspace, bool Network, IReadOnlyList<string> ReadOnly)
{
    /// <summary>Host files or folders shown read-only at another path inside (the database's socket).</summary>
    public IReadOnlyList<(string Source, string Target)> Binds { get; init; } = [];

    /// <summary>The command line and environment that start <paramref name="program"/> in the sandbox; dispose to forget the run's files.</summary>
    public Launched Launch(string program, IReadOnlyList<string> arguments, string workingDirectory, IReadOnlyDictionary<string, string> environment)
    {
        var (argv, env, control) = Sandbox.Launch(this, program, arguments, workingDirectory, environment);
        return new Launched(argv, env, control);
    }

    public sealed record Launched(IReadOnlyList<string> Argv, IReadOnlyDictionary<string, string> Environment, string Control) : IDisposable
    {
        public void Dispose() => BuildSandbox.Forget(Control);
    }
}
