namespace OdooOps.Runners.Agent.Backups;

/// <summary>
/// The names a backup may hold, the same rule for writing and restoring: relative paths of plain segments only —
/// no "..", ".", empty segment, backslash (a separator elsewhere), drive letter, control character or absolute path.
/// </summary>
internal static class BackupPaths
{
    public static bool IsSafeName(string segment) =>
        segment.Length is > 0 and <= 255 && segment is not ("." or "..") && !segment.Any(c => c is '/' or '\\' or ':' || char.IsControl(c));

    /// <summary>The segments of a relative entry path; null when any is unsafe (zip-slip, absolute, …).</summary>
    public static string[]? Segments(string path)
    {
        if (path.Length == 0 || path.Length > 4096 || path.StartsWith('/')) return null;
        var segments = path.Split('/');
        return segments.All(IsSafeName) ? segments : null;
    }
}
