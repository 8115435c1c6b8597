using System.Data;
using System.Security.Cryptography;
using System.Text;
using DbUp.Engine;

namespace OdooOps.Database;

/// <summary>
/// DbUp's record of applied scripts, with a SHA-256 of each script's text so that a script edited
/// after it was applied is noticed (migrations are forward-only and never edited once merged).
/// </summary>
internal sealed class MigrationJournal : IJournal
{
    public const string Table = "ops_private.schema_migrations";

    readonly string[] _executed;

    /// <param name="executed">Scripts already applied, read by the migrator under its advisory lock.</param>
    public MigrationJournal(IEnumerable<string> executed) => _executed = [.. executed];

    public static string Checksum(string contents) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(contents.ReplaceLineEndings("\n"))));

    public const string CreateSql = """
        create schema if not exists ops_private;
        revoke all on schema ops_private from public;
        create table if not exists ops_private.schema_migrations (
            script_name text primary key,
            checksum    text not null,
            applied_at  timestamptz not null default now(),
            applied_by  text not null default current_user
        );
        alter table ops_private.schema_migrations enable row level security;
        """;

    public string[] GetExecutedScripts() => _executed;

    public void StoreExecutedScript(SqlScript script, Func<IDbCommand> dbCommandFactory)
    {
        using var cmd = dbCommandFactory();
        cmd.CommandText = $"insert into {Table} (script_name, checksum) values (@name, @checksum)";
        AddParameter(cmd, "name", script.Name);
        AddParameter(cmd, "checksum", Checksum(script.Contents));
        cmd.ExecuteNonQuery();
    }

    public void EnsureTableExistsAndIsLatestVersion(Func<IDbCommand> dbCommandFactory)
    {
        using var cmd = dbCommandFactory();
        cmd.CommandText = CreateSql;
        cmd.ExecuteNonQuery();
    }

    static void AddParameter(IDbCommand cmd, string name, object value)
    {
        var p = cmd.CreateParameter();
        p.ParameterName = name;
        p.Value = value;
        cmd.Parameters.Add(p);
    }
}
