using System.IO.Compression;
using System.Text;
using Npgsql;
using OdooOps.Database;

namespace OdooOps.Tests.Backups.Storage;

/// <summary>Backup zips for the tests: ours (pg_dump's custom archive of a real database) and hand-made ones, good or bad.</summary>
public static class BackupZips
{
    public const string FilePath = "filestore/ab/ab12cd34ef";
    public static readonly byte[] FileBytes = Encoding.UTF8.GetBytes("%PDF-1.4 not really a PDF\n\u00e9t\u00e9\n");
    public const string Manifest = """{"odoo_dump": "1", "db_name": "shop", "version": "17.0", "major_version": "17.0", "pg_version": "15.0", "modules": {"base": "17.0.1.3", "sale": "17.0.1.2"}, "odooops": {"format": "custom"}}""";

    /// <summary>pg_dump --format=custom --no-owner --no-privileges of <paramref name="database"/>, as the runner takes it.</summary>
    public static async Task<byte[]> DumpAsync(NpgsqlConnectionStringBuilder database)
    {
        var file = Path.GetTempFileName();
        try
        {
            var result = await PostgresBinaries.Locate().RunClientToolAsync("pg_dump",
                ["--format=custom", "--no-owner", "--no-privileges", "--host", database.Host!, "--port", database.Port.ToString(),
                 "--username", database.Username!, "--no-password", "--file", file, database.Database!],
                new Dictionary<string, string> { ["PGPASSWORD"] = database.Password ?? "" });
            Assert.True(result.ExitCode == 0, result.Describe());
            return await File.ReadAllBytesAsync(file);
        }
        finally { File.Delete(file); }
    }

    /// <summary>A zip of these entries, in this order, stored (no compression), as the backup engine writes them.</summary>
    public static byte[] Zip(params (string Name, byte[] Bytes)[] entries) => Zip(entries.Select(e => (e.Name, e.Bytes, 0)).ToArray());

    /// <summary>As <see cref="Zip(ValueTuple{string, byte[]}[])"/>, with each entry's Unix mode (0: none).</summary>
    public static byte[] Zip((string Name, byte[] Bytes, int UnixMode)[] entries)
    {
        var output = new MemoryStream();
        using (var zip = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
            foreach (var (name, bytes, mode) in entries)
            {
                var entry = zip.CreateEntry(name, CompressionLevel.NoCompression);
                if (mode != 0) entry.ExternalAttributes = mode << 16;
                using var stream = entry.Open();
                stream.Write(bytes);
            }
        return output.ToArray();
    }

    public static byte[] Ours(byte[] dump) =>
        Zip(("dump.dump", dump), ("filestore/ab/", []), (FilePath, FileBytes), ("manifest.json", Encoding.UTF8.GetBytes(Manifest)));

    public static byte[] Odoos(string sql) =>
        Zip(("dump.sql", Encoding.UTF8.GetBytes(sql)), (FilePath, FileBytes), ("manifest.json", Encoding.UTF8.GetBytes(Manifest)));
}
