using System.Collections.Concurrent;
using System.Diagnostics;
using OdooOps.Runners.Agent.Execution;

namespace OdooOps.Tests.Runners.Agent.Execution;

/// <summary>Collects a run's lines with the moment each arrived, and the pids a script reports.</summary>
public sealed class LineRecorder
{
    readonly Stopwatch _clock = Stopwatch.StartNew();
    readonly ConcurrentQueue<(OutputLine Line, TimeSpan At)> _lines = new();

    public void Add(OutputLine line) => _lines.Enqueue((line, _clock.Elapsed));

    public IReadOnlyList<OutputLine> Lines => _lines.Select(l => l.Line).ToList();
    public IReadOnlyList<string> Texts(string stream = LogStream.Stdout) => Lines.Where(l => l.Stream == stream).Select(l => l.Text).ToList();
    public TimeSpan ArrivalOf(string text) => _lines.First(l => l.Line.Text == text).At;

    /// <summary>Pids a script reported with lines like "pid 1234".</summary>
    public IReadOnlyList<int> ReportedPids() =>
        Texts().Where(t => t.StartsWith("pid ", StringComparison.Ordinal)).Select(t => int.Parse(t[4..])).ToList();

    /// <summary>How long to wait for a line before failing instead of hanging: generous, for a busy machine.</summary>
    static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    /// <summary>Waits until the script has reported <paramref name="count"/> pids.</summary>
    public async Task<IReadOnlyList<int>> WaitForPidsAsync(int count)
    {
        var clock = Stopwatch.StartNew();
        while (ReportedPids().Count < count && clock.Elapsed < Patience) await Task.Delay(20);
        Assert.Equal(count, ReportedPids().Count);
        return ReportedPids();
    }

    /// <summary>Waits until the line <paramref name="text"/> has arrived.</summary>
    public async Task WaitForLineAsync(string text)
    {
        var clock = Stopwatch.StartNew();
        while (!_lines.Any(l => l.Line.Text == text) && clock.Elapsed < Patience) await Task.Delay(10);
        Assert.Contains(text, Lines.Select(l => l.Text));
    }
}
