using System.CommandLine;
using Npgsql;
using OdooOps.Configuration;

namespace OdooOps.Cli;

/// <summary>Options every database verb shares, and the one-line error contract of the CLI.</summary>
internal static class CliCommon
{
    public static Option<string?> DatabaseUrlOption() => new("--database-url")
    {
        Description = "PostgreSQL to use: a postgresql://user:password@host:port/db URL or an Npgsql connection string (env OPS_DATABASE_URL). Without it, OdooOps runs its own local cluster in the data dir.",
    };

    public static Option<string?> DataDirOption() => new("--data-dir")
    {
        Description = "Folder for the embedded database, generated secrets and backups (env OPS_DATA_DIR).",
    };

    public static Microsoft.Extensions.Configuration.IConfiguration Configuration(ParseResult parse, Option<string?> databaseUrl, Option<string?> dataDir) =>
        OpsConfiguration.Build(new Dictionary<string, string?>
        {
            [OpsConfiguration.DatabaseUrl] = parse.GetValue(databaseUrl),
            [OpsConfiguration.DataDir] = parse.GetValue(dataDir),
        });

    /// <summary>Runs a verb: any failure becomes one clear line on stderr and exit code 1.</summary>
    public static async Task<int> Guard(Func<Task<int>> body)
    {
        try
        {
            return await body();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Console.Error.WriteLine($"error: {Describe(e)}");
            if (Environment.GetEnvironmentVariable("OPS_DEBUG") == "1") Console.Error.WriteLine(e);
            return 1;
        }
    }

    static string Describe(Exception e) => e switch
    {
        PostgresException pg => $"{pg.MessageText} (SQLSTATE {pg.SqlState})",
        NpgsqlException { InnerException: System.Net.Sockets.SocketException s } => $"cannot reach the database: {s.Message}",
        NpgsqlException n => $"database error: {n.Message}",
        _ => e.Message.ReplaceLineEndings(" "),
    };
}
