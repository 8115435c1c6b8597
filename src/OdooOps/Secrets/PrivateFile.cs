namespace OdooOps.Secrets;

/// <summary>
/// Files only their owner may read (secrets, keys, database dumps), mode 0600 from the moment they exist: created new
/// with that mode (never by a program that makes it 0644 first), then set to exactly 0600 whatever the umask, before
/// a byte is written. An existing file is replaced, not reopened: a reader who opened it while it was readable keeps
/// the old content only.
/// </summary>
internal static class PrivateFile
{
    const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>An empty 0600 file at <paramref name="path"/> (an existing one is deleted first), for a program to write into.</summary>
    public static void Create(string path)
    {
        File.Delete(path);
        using var stream = Open(path);
    }

    /// <summary>Writes <paramref name="contents"/> to a new 0600 file beside <paramref name="path"/>, then moves it over <paramref name="path"/>.</summary>
    public static void Write(string path, string contents)
    {
        var temporary = $"{path}.{Guid.NewGuid():N}.tmp";
        try
        {
            using (var stream = Open(temporary))
            using (var writer = new StreamWriter(stream))
                writer.Write(contents);
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    static FileStream Open(string path)
    {
        var stream = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            UnixCreateMode = OwnerOnly, // the umask may only take bits away from 0600
        });
        File.SetUnixFileMode(stream.SafeFileHandle, OwnerOnly); // and whatever it took, the owner gets read and write back
        return stream;
    }
}
