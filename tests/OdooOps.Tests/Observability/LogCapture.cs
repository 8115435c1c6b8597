using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace OdooOps.Tests.Observability;

/// <summary>An ILoggerProvider that keeps every entry it is given: category, event, rendered message and structured fields.</summary>
public sealed class LogCapture : ILoggerProvider
{
    public sealed record Entry(string Category, LogLevel Level, EventId EventId, string Message, IReadOnlyList<KeyValuePair<string, object?>> Fields, string? Exception)
    {
        public object? Field(string name) => Fields.FirstOrDefault(f => f.Key == name).Value;

        /// <summary>Everything about the entry as text, for "never contains" assertions.</summary>
        public string AllText => $"{Category} {EventId} {Message} {string.Join(" ", Fields.Select(f => $"{f.Key}={f.Value}"))} {Exception}";
    }

    public ConcurrentQueue<Entry> Entries { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose() { }

    sealed class Logger(LogCapture owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Entries.Enqueue(new Entry(category, logLevel, eventId, formatter(state, exception),
                state as IReadOnlyList<KeyValuePair<string, object?>> ?? [], exception?.ToString()));
    }
}
