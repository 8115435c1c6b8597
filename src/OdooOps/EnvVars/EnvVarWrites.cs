using Dapper;
using Npgsql;
using OdooOps.Audit;
using OdooOps.Projects;
using OdooOps.Server;

namespace OdooOps.EnvVars;

/// <summary>
/// Adding, changing and removing a stage's environment variable, for PUT/DELETE /api/ops/projects/{id}/env/{stage}/{name}
/// and the console's environment page (the CLI through the API): one transaction with its <c>env.set</c> /
/// <c>env.unset</c> audit row, which names the variable and never holds a value. A secret's value is sealed here
/// (<see cref="EnvSecretBox"/>) before it reaches the database. Who may is ops.env_refusal's (ops.env_write_role). The
/// answer names the instances that now run with older variables (<see cref="EnvVarStore.RestartNeededAsync"/>).
/// </summary>
internal static class EnvVarWrites
{
    /// <param name="Value">Null keeps the stored value (an existing variable only): a plain one may become secret so.</param>
    /// <param name="Secret">Null keeps what the variable is (a new one is plain).</param>
    public sealed record Change(string Stage, string Name, string? Value, bool? Secret);

    public abstract record Outcome;
    /// <param name="Changed">False when nothing was to change (the same plain value again).</param>
    public sealed record Saved(EnvVar Variable, bool Created, bool Changed, IReadOnlyList<RestartNeeded> RestartNeeded) : Outcome;
    public sealed record Removed(EnvVar Before, IReadOnlyList<RestartNeeded> RestartNeeded) : Outcome;
    public sealed record NotFound : Outcome;
    public sealed record Refused(string Reason) : Outcome;
    /// <param name="Field">Which of the caller's field names (<see cref="EnvVarRules.FieldNames"/>).</param>
    public sealed record Invalid(string Field, string Message) : Outcome;

    /// <summary>The rules that need nothing stored: stage, name, and a given value's size.</summary>
    public static Validation Validate(Change r, EnvVarRules.FieldNames fields) =>
        new Validation().Stage(fields.Stage, r.Stage).Name(fields.Name, r.Name).Value(fields.Value, r.Value, r.Secret);

    public static async Task<Outcome> SetAsync(NpgsqlConnection c, NpgsqlTransaction t, Actor actor, EnvSecretBox box, Guid projectId, Change r,
        EnvVarRules.FieldNames fields)
    {
        if (await ProjectStore.GetAsync(c, t, projectId) is not { } project) return new NotFound();
        if (await RefusalAsync(c, t, projectId, r.Stage) is { } refused) return refused;
        // One writer per stage at a time, so the cap holds under concurrent adds.
        await c.ExecuteAsync("select pg_advisory_xact_lock(hashtext('ops.env_vars'), hashtext(@key))", new { key = $"{projectId}/{r.Stage}" }, t);
        var existing = await c.QuerySingleOrDefaultAsync<(Guid Id, bool Secret, string? Value)?>(
            "select id, is_secret, value from ops.env_vars where project_id = @projectId and stage = @Stage and name = @Name for update",
            new { projectId, r.Stage, r.Name }, t);
        var secret = r.Secret ?? existing?.Secret ?? false;
        var value = r.Value;
        if (value is null)
        {
            if (existing is not { } e) return new Invalid(fields.Value, $"{fields.Value} is required.");
            if (e.Secret && !secret)
                return new Invalid(fields.Value, $"{fields.Value} is required to make a secret plain: its value is never shown, so give the new one.");
            if (e.Secret == secret) return await SavedAsync(c, t, projectId, r, created: false, changed: false);
            value = e.Value ?? ""; // plain, becoming secret: its value is sealed as it is
        }
        if (secret && value.Length == 0) return new Invalid(fields.Value, $"{fields.Value} is required: a secret cannot be empty.");
        if (existing is { Secret: false } same && !secret && same.Value == value) return await SavedAsync(c, t, projectId, r, created: false, changed: false);
        if (existing is null && await c.ExecuteScalarAsync<int>("select count(*) from ops.env_vars where project_id = @projectId and stage = @Stage",
                new { projectId, r.Stage }, t) >= EnvVarRules.MaxPerStage)
            return new Invalid(fields.Name, $"{fields.Name}: the {r.Stage} stage already has {EnvVarRules.MaxPerStage} variables, the most it may hold.");

        var id = await c.ExecuteScalarAsync<Guid>("""
            insert into ops.env_vars (project_id, stage, name, value, sealed, is_secret)
            values (@projectId, @Stage, @Name, @plain, @sealed, @secret)
            on conflict (project_id, stage, name) do update set value = excluded.value, sealed = excluded.sealed, is_secret = excluded.is_secret
            returning id
            """, new
        {
            projectId, r.Stage, r.Name, secret,
            plain = secret ? null : value,
            @sealed = secret ? box.Seal(projectId, r.Stage, r.Name, value) : null,
        }, t);
        await AuditLog.WriteAsync(c, t, actor, new(project.OrgId, projectId, "env.set", "env_var", id.ToString(),
            existing is { } before ? new { r.Stage, r.Name, before.Secret } : null,
            new { r.Stage, r.Name, secret, ValueChanged = r.Value is not null }));
        return await SavedAsync(c, t, projectId, r, created: existing is null, changed: true);
    }

    public static async Task<Outcome> UnsetAsync(NpgsqlConnection c, NpgsqlTransaction t, Actor actor, Guid projectId, string stage, string name)
    {
        if (await ProjectStore.GetAsync(c, t, projectId) is not { } project) return new NotFound();
        if (await RefusalAsync(c, t, projectId, stage) is { } refused) return refused;
        if (await EnvVarStore.GetAsync(c, t, projectId, stage, name) is not { } before) return new NotFound();
        await c.ExecuteAsync("delete from ops.env_vars where id = @Id", before, t);
        await AuditLog.WriteAsync(c, t, actor, new(project.OrgId, projectId, "env.unset", "env_var", before.Id.ToString(),
            new { before.Stage, before.Name, before.Secret }));
        return new Removed(before, await EnvVarStore.RestartNeededAsync(c, t, projectId, stage));
    }

    static async Task<Refused?> RefusalAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid projectId, string stage) =>
        await c.ExecuteScalarAsync<string?>("select ops.env_refusal(@projectId, @stage)", new { projectId, stage }, t) is { } reason
            ? new Refused(reason) : null;

    static async Task<Outcome> SavedAsync(NpgsqlConnection c, NpgsqlTransaction t, Guid projectId, Change r, bool created, bool changed) =>
        new Saved((await EnvVarStore.GetAsync(c, t, projectId, r.Stage, r.Name))!, created, changed,
            await EnvVarStore.RestartNeededAsync(c, t, projectId, r.Stage));
}
