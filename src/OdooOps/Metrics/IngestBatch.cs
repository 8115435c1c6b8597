namespace OdooOps.Metrics;

/// <summary>
/// One ingest request's body once parsed: the batch fields and the samples as parallel lists, which become the
/// arrays ops.ingest_metric_batch takes. Branches and labels stay null until a sample names one, so the common
/// batch (production branch, no labels) sends two null arrays instead of thousands of nulls.
/// </summary>
public sealed class IngestBatch
{
    public Guid? ProjectId { get; set; }

    /// <summary>The body's "ts": every sample without its own ts was taken at this instant.</summary>
    public DateTime? BatchTs { get; set; }

    public List<string> Metrics { get; } = [];
    public List<double> Values { get; } = [];
    public List<DateTime?> SampleTs { get; } = [];
    public List<string?>? Branches { get; private set; }
    public List<string?>? Labels { get; private set; }

    public int Count => Metrics.Count;

    public void Add(string metric, double value, DateTime? ts, string? branch, string? labelsJson)
    {
        Metrics.Add(metric);
        Values.Add(value);
        SampleTs.Add(ts);
        if (branch is not null) Branches ??= Padded(Count - 1);
        Branches?.Add(branch);
        if (labelsJson is not null) Labels ??= Padded(Count - 1);
        Labels?.Add(labelsJson);
    }

    static List<string?> Padded(int nulls) => [.. Enumerable.Repeat<string?>(null, nulls)];

    /// <summary>Each sample's instant: its own ts, else the batch's (the caller has checked one of them is there).</summary>
    public DateTime[] ResolvedTimestamps()
    {
        var ts = new DateTime[Count];
        for (var i = 0; i < ts.Length; i++) ts[i] = SampleTs[i] ?? BatchTs!.Value;
        return ts;
    }
}

/// <summary>
/// Field errors for a ProblemDetails answer, named as in the body ("samples[3].value", indexes from 0). Capped: a
/// batch of 10,000 bad samples answers with the first few problems, not a megabyte of them.
/// </summary>
internal sealed class IngestErrors
{
    public const int Shown = 20;

    readonly Dictionary<string, List<string>> _errors = [];
    int _listed;

    public int Total { get; private set; }
    public bool Any => Total > 0;

    public void Add(string field, string message)
    {
        Total++;
        if (_errors.Count >= Shown && !_errors.ContainsKey(field)) return;
        if (!_errors.TryGetValue(field, out var list)) _errors[field] = list = [];
        list.Add(message);
        _listed++;
    }

    public Dictionary<string, string[]> ToDictionary() => _errors.ToDictionary(e => e.Key, e => e.Value.ToArray());

    public string Summary(string what) =>
        Total > _listed ? $"{what} ({Total} problems; {_listed} are listed)." : $"{what}.";
}
