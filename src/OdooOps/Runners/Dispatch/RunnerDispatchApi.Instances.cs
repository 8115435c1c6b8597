using Microsoft.AspNetCore.Http.HttpResults;
using OdooOps.Database;
using OdooOps.Server;
using static OdooOps.Runners.Protocol.RunnerProtocol;

namespace OdooOps.Runners.Dispatch;

/// <summary>The instance calls of the runner protocol (instances/sync and instances/{id}/logs), behind the runner token.</summary>
internal static partial class RunnerDispatchApi
{
    const int MaxReports = 2000;

    static void MapInstanceCalls(RouteGroupBuilder v1)
    {
        var instances = v1.MapGroup("/instances").AddEndpointFilter(AuthenticateAsync).OwnBodyLimit();
        instances.MapPost("/sync", SyncAsync).WithSummary("Report the runner's instances; answer what they should be, and the tasks leased to it now");
        instances.MapPost("/{instanceId:guid}/logs", InstanceLogsAsync).WithSummary("Numbered Odoo log lines of an instance on this runner");
    }

    static async Task<Results<Ok<SyncResponse>, ValidationProblem>> SyncAsync(SyncRequest body, HttpContext http, OpsDatabase db,
        Instances.InstanceUrls urls, DispatchSettings settings, EnvVars.EnvSecretBox secrets, ILoggerFactory loggers, CancellationToken ct)
    {
        var v = new Validation();
        var reports = body.Instances ?? [];
        if (reports.Count > MaxReports) v.Add("instances", $"instances: at most {MaxReports}.");
        for (var i = 0; i < reports.Count && v.IsValid; i++)
        {
            if (!InstanceStates.Contains(reports[i].State)) v.Add($"instances[{i}].state", $"state must be one of {string.Join(", ", InstanceStates)}.");
            if (reports[i].Reason is { Length: > 2000 }) v.Add($"instances[{i}].reason", "reason: at most 2000 characters.");
            if (reports[i].EnvRevision is < 0) v.Add($"instances[{i}].env_revision", "env_revision must be 0 or more.");
        }
        if (body.Address is { } address && (address.Length > 253 || !address.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or ':' or '-' or '[' or ']')))
            v.Add("address", "address must be a host name or an IP address.");
        if (!v.IsValid) return TypedResults.ValidationProblem(v.Errors);
        await using var conn = await db.Service.OpenConnectionAsync(ct);
        return TypedResults.Ok(await InstanceDispatchStore.SyncAsync(conn, Runner(http).Id, body,
            (branch, project) => urls.For(http.Request, branch, project), settings.LeaseSeconds, secrets,
            loggers.CreateLogger(typeof(InstanceDispatchStore))));
    }

    static async Task<Results<Ok<LogsAccepted>, ValidationProblem>> InstanceLogsAsync(Guid instanceId, InstanceLogsRequest body, HttpContext http,
        OpsDatabase db, CancellationToken ct)
    {
        var v = new Validation();
        var lines = body.Lines ?? [];
        if (lines.Count is 0 or > MaxLinesPerBatch) v.Add("lines", $"lines must hold 1 to {MaxLinesPerBatch} lines.");
        for (var i = 0; i < lines.Count && v.IsValid; i++)
        {
            var l = lines[i];
            if (l.Seq < 0) v.Add($"lines[{i}].seq", "seq must be 0 or more.");
            if (l.Level is not (null or "DEBUG" or "INFO" or "WARNING" or "ERROR" or "CRITICAL"))
                v.Add($"lines[{i}].level", "level must be DEBUG, INFO, WARNING, ERROR or CRITICAL.");
            if (l.Line is null || l.Line.Length > MaxLineChars) v.Add($"lines[{i}].line", $"line must be text of at most {MaxLineChars} characters.");
        }
        if (!v.IsValid) return TypedResults.ValidationProblem(v.Errors);
        await using var conn = await db.Service.OpenConnectionAsync(ct);
        return TypedResults.Ok(new LogsAccepted(await InstanceDispatchStore.AppendLogsAsync(conn, Runner(http).Id, instanceId, lines)));
    }
}
