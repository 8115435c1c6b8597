using Microsoft.Extensions.Logging;
using System.Collections.Concurrent;

namespace OdooOps.Tests.Infrastructure;

/// <summary>A logger that keeps its lines, for a test to show what a runner said when it fails.</summary>
public sealed class LineLogger : ILogger
{
    readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyList<string> Lines => [.. _lines];

    public string Tail(int count = 30) => string.Join("\n", Lines.TakeLast(count));

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        _lines.Enqueue($"{logLevel}: {formatter(state, exception)}{(exception is null ? "" : " " + exception)}");
        while (_lines.Count > 2000) _lines.TryDequeue(out _);
    }
}
