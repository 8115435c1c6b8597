namespace OdooOps.Runners.Agent.Pipeline;

/// <summary>An invalid <c>.odooops.yml</c>; the message starts with "line L, column C:" so users can find the spot.</summary>
internal sealed class PipelineFileException(int line, int column, string problem)
    : Exception($"line {line}, column {column}: {problem}")
{
    public int Line { get; } = line;
    public int Column { get; } = column;
    /// <summary>The message without its position prefix.</summary>
    public string Problem { get; } = problem;
}
