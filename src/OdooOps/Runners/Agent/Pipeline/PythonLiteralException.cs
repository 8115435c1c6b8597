namespace OdooOps.Runners.Agent.Pipeline;

/// <summary>Text that is not a plain Python literal; the message starts with "line L, column C:".</summary>
internal sealed class PythonLiteralException(int line, int column, string problem)
    : Exception($"line {line}, column {column}: {problem}")
{
    public int Line { get; } = line;
    public int Column { get; } = column;
    public string Problem { get; } = problem;
}
