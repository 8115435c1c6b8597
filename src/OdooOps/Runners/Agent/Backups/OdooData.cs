using System.Text.RegularExpressions;

namespace OdooOps.Runners.Agent.Backups;

/// <summary>
/// An Odoo database and its filestore folder (<c>&lt;data dir&gt;/filestore/&lt;database&gt;</c>): what a backup reads, or a
/// restore fills. The database is reached as the project's own role (<see cref="Instances.OdooDatabaseServer.ProjectConnection"/>).
/// </summary>
internal sealed partial record OdooData(Guid ProjectId, bool Production, string DatabaseName, string FilestoreFolder)
{
    /// <summary>The filestore folder of <paramref name="database"/> under an Odoo data dir (--data-dir).</summary>
    public static string FilestoreOf(string dataDir, string database) => Path.Combine(Path.GetFullPath(dataDir), "filestore", database);

    /// <summary>Throws when the name is not one Odoo (and ops.backups) accepts, or the folder is not absolute.</summary>
    public void Validate()
    {
        if (!DatabaseNamePattern().IsMatch(DatabaseName))
            throw new ArgumentException($"'{DatabaseName}' is not an Odoo database name (letters, digits, '_', '.' and '-', up to 63).");
        if (!Path.IsPathFullyQualified(FilestoreFolder) || Path.GetFileName(FilestoreFolder.TrimEnd('/')).Length == 0)
            throw new ArgumentException($"'{FilestoreFolder}' is not an absolute folder path.");
    }

    [GeneratedRegex("^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$")]
    private static partial Regex DatabaseNamePattern();
}
