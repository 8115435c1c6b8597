using System.Globalization;
using Dapper;
using Npgsql;
using OdooOps.Audit;
using OdooOps.Server;

namespace OdooOps.Projects;

/// <summary>
/// How long a development build's instance lives and how many run at once per project, read and set the same way by
/// PUT /api/ops/projects/{id}/instance-settings, the console's settings page and `odooops projects instances`: one
/// transaction with its <c>project.instance_settings</c> audit row (only a change is audited). RLS lets project admins
/// write. A new lifetime applies to instances started afterwards; running ones keep the expiry they started with.
/// </summary>
internal static class ProjectInstanceSettings
{
    public const string TtlField = "dev_ttl_hours";
    public const string MaxField = "max_dev_instances";
    public const int MinTtlMinutes = 10;
    public const int MaxTtlMinutes = 90 * 24 * 60;
    public const int MaxDevInstances = 100;

    /// <summary>What the API answers; hours as a number, so a 10-minute lifetime reads 0.1667.</summary>
    public sealed record Settings(double DevTtlHours, int MaxDevInstances);

    /// <summary>A change: null leaves that setting as it is.</summary>
    public sealed record Change(int? TtlMinutes, int? MaxDevInstances);

    /// <summary>Hours to whole minutes (what is stored), or the field's error.</summary>
    public static Validation Validate(double? ttlHours, int? maxDev, out Change change)
    {
        var v = new Validation();
        int? minutes = null;
        if (ttlHours is null && maxDev is null)
            v.Add(TtlField, $"Give {TtlField}, {MaxField} or both.");
        if (ttlHours is { } h)
        {
            var m = double.IsFinite(h) ? Math.Round(h * 60) : -1;
            if (m is < MinTtlMinutes or > MaxTtlMinutes)
                v.Add(TtlField, $"{TtlField} must be between 0.17 (10 minutes) and {MaxTtlMinutes / 60} (90 days).");
            else minutes = (int)m;
        }
        if (maxDev is < 0 or > MaxDevInstances)
            v.Add(MaxField, $"{MaxField} must be between 0 and {MaxDevInstances}.");
        change = new Change(minutes, maxDev);
        return v;
    }

    /// <summary>Null: no such project (for this user).</summary>
    public static async Task<Settings?> GetAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid projectId) =>
        await c.QuerySingleOrDefaultAsync<(double Seconds, int Max)?>(
            "select extract(epoch from dev_instance_ttl)::float8, max_dev_instances from ops.projects where id = @projectId",
            new { projectId }, t) is { } row ? Of(row.Seconds, row.Max) : null;

    /// <summary>Stores the change; null when the project is not there for this user (RLS lets project admins write).</summary>
    public static async Task<Settings?> SetAsync(NpgsqlConnection c, NpgsqlTransaction t, Actor actor, Guid projectId, Change change)
    {
        var before = await c.QuerySingleOrDefaultAsync<(Guid OrgId, double Seconds, int Max)?>(
            "select org_id, extract(epoch from dev_instance_ttl)::float8, max_dev_instances from ops.projects where id = @projectId for update",
            new { projectId }, t);
        if (before is not { } b) return null;
        var after = await c.QuerySingleOrDefaultAsync<(double Seconds, int Max)?>("""
            update ops.projects
               set dev_instance_ttl = coalesce(make_interval(mins => @minutes::int), dev_instance_ttl),
                   max_dev_instances = coalesce(@max::int, max_dev_instances)
             where id = @projectId
            returning extract(epoch from dev_instance_ttl)::float8, max_dev_instances
            """, new { projectId, minutes = change.TtlMinutes, max = change.MaxDevInstances }, t);
        if (after is not { } a) return null;
        var (old, saved) = (Of(b.Seconds, b.Max), Of(a.Seconds, a.Max));
        if (old != saved)
            await AuditLog.WriteAsync(c, t, actor, new(b.OrgId, projectId, "project.instance_settings", "project", projectId.ToString(), old, saved));
        return saved;
    }

    static Settings Of(double seconds, int max) => new(Math.Round(seconds / 3600, 4), max);

    /// <summary>A lifetime as people say it: "3 days", "36 hours", "10 minutes".</summary>
    public static string Describe(double hours)
    {
        var minutes = (long)Math.Round(hours * 60);
        return minutes switch
        {
            _ when minutes % (24 * 60) == 0 => Plural(minutes / (24 * 60), "day"),
            _ when minutes % 60 == 0 => Plural(minutes / 60, "hour"),
            _ => Plural(minutes, "minute"),
        };
        static string Plural(long n, string unit) => string.Create(CultureInfo.InvariantCulture, $"{n} {unit}{(n == 1 ? "" : "s")}");
    }
}
