using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;

namespace OdooOps.Bench;

/// <summary>
/// serve's log in the instances bench: warnings and errors are printed, except the proxy's "Instance … did not answer",
/// which are kept (when, which instance, why) so the bench can say which instance — the old release or the new one —
/// a failed request went to.
/// </summary>
public sealed partial class ProxyWarnings : ILoggerProvider
{
    readonly List<(DateTime At, Guid Instance, string Message)> _seen = [];

    public IReadOnlyList<(DateTime At, Guid Instance, string Message)> Since(DateTime start)
    {
        lock (_seen) return [.. _seen.Where(s => s.At >= start)];
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose() { }

    [GeneratedRegex(@"^Instance (?<id>[0-9a-f-]{36}) did not answer: (?<why>.*)$")]
    private static partial Regex DidNotAnswer();

    sealed class Logger(ProxyWarnings owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel)) return;
            var message = formatter(state, exception);
            if (DidNotAnswer().Match(message) is { Success: true } m)
            {
                lock (owner._seen) owner._seen.Add((DateTime.UtcNow, Guid.Parse(m.Groups["id"].Value), m.Groups["why"].Value));
                return;
            }
            Console.Error.WriteLine($"serve {logLevel}: {category}: {message}{(exception is null ? "" : $" ({exception.GetType().Name}: {exception.Message})")}");
        }
    }
}
