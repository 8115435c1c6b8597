using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace OdooOps.Runners.Agent.Backups;

/// <summary>
/// A folder the runner (root) works in by handle, never by path, because a tenant's Odoo can write beside it: its
/// data dir (filestore) belongs to the instance's uid, which could swap any entry for a symbolic link at any moment.
/// Every step below the folder is an openat with O_NOFOLLOW: a link is never followed, so a backup cannot read and a
/// restore cannot write anything outside the folder (another tenant's filestore, /etc/shadow). Getting to the folder
/// itself, only links owned by root are followed (the system's, the operator's): a tenant's uid cannot make those.
/// </summary>
internal sealed class SafeFolder : IDisposable
{
    public enum Kind { File, Folder, Link, Other }

    readonly SafeFileHandle _handle;

    SafeFolder(SafeFileHandle handle, string path) => (_handle, Path) = (handle, path);

    /// <summary>Where the folder was when opened (for messages only: nothing is done through it).</summary>
    public string Path { get; }

    /// <summary>Opens an absolute path; null when it does not exist. Throws when a link not owned by root is on the way.</summary>
    public static SafeFolder? OpenIfExists(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        var fd = Native.Check(Native.open("/", Native.ODirectory | Native.OCloexec), "/");
        var parts = new LinkedList<string>(full.Split('/', StringSplitOptions.RemoveEmptyEntries));
        var hops = 0;
        while (parts.First is { } first)
        {
            parts.RemoveFirst();
            var name = first.Value;
            var next = Native.openat(fd, name, Native.ODirectory | Native.ONofollow | Native.OCloexec, 0);
            if (next >= 0)
            {
                Native.close(fd);
                fd = next;
                continue;
            }
            var errno = Marshal.GetLastPInvokeError();
            if (errno == Native.ENOENT)
            {
                Native.close(fd);
                return null;
            }
            var (kind, uid) = Native.Stat(fd, name, follow: false);
            if (kind != Kind.Link || errno is not (Native.ELOOP or Native.ENOTDIR))
            {
                Native.close(fd);
                throw new IOException($"{full}: cannot open {name} ({Native.Describe(errno)}).");
            }
            if (uid != 0 || ++hops > 40)
            {
                Native.close(fd);
                throw new IOException($"{full}: {name} is a symbolic link {(uid != 0 ? $"owned by uid {uid}" : "in a loop")}; it is not followed.");
            }
            var target = Native.ReadLink(fd, name);
            var steps = target.Split('/', StringSplitOptions.RemoveEmptyEntries);
            for (var i = steps.Length - 1; i >= 0; i--) parts.AddFirst(steps[i]);
            if (target.StartsWith('/'))
            {
                Native.close(fd);
                fd = Native.Check(Native.open("/", Native.ODirectory | Native.OCloexec), "/");
            }
        }
        return new SafeFolder(new SafeFileHandle(fd, ownsHandle: true), full);
    }

    int Fd => (int)_handle.DangerousGetHandle();

    /// <summary>
    /// The entries, by name, with what each is as the listing says (a link is a link, never followed). Only a hint:
    /// an entry may change before it is opened, and <see cref="OpenFolder"/> and <see cref="OpenFile"/> check again.
    /// </summary>
    public List<(string Name, Kind Kind)> Entries()
    {
        // The folder's own listing, through its handle: /proc/self/fd/N is this very folder, wherever it moved since.
        return [.. new System.IO.Enumeration.FileSystemEnumerable<(string, Kind)>($"/proc/self/fd/{Fd}",
            (ref System.IO.Enumeration.FileSystemEntry e) => (e.FileName.ToString(),
                (e.Attributes & FileAttributes.ReparsePoint) != 0 ? Kind.Link : e.IsDirectory ? Kind.Folder : Kind.File),
            new EnumerationOptions { AttributesToSkip = 0, IgnoreInaccessible = false, RecurseSubdirectories = false })];
    }

    /// <summary>A folder in this one; null when the entry is gone or is not a folder (a link is not one).</summary>
    public SafeFolder? OpenFolder(string name)
    {
        var fd = Native.openat(Fd, Single(name), Native.ODirectory | Native.ONofollow | Native.OCloexec, 0);
        if (fd < 0)
        {
            ThrowUnlessGone(Marshal.GetLastPInvokeError(), name);
            return null;
        }
        return new SafeFolder(new SafeFileHandle(fd, ownsHandle: true), Path + "/" + name);
    }

    /// <summary>Makes a new folder here (fails if the name is taken, by anything) and opens it.</summary>
    public SafeFolder CreateFolder(string name, UnixFileMode mode, int? owner = null)
    {
        Native.Check(Native.mkdirat(Fd, Single(name), (int)mode), Path + "/" + name);
        var folder = OpenFolder(name) ?? throw new IOException($"{Path}/{name} went away as it was made.");
        if (owner is { } uid) Native.Check(Native.fchown(folder.Fd, uid, uid), folder.Path);
        return folder;
    }

    /// <summary>A regular file here, for reading; null when it is gone or is not a regular file (a link, a FIFO).</summary>
    public SafeFileHandle? OpenFile(string name)
    {
        // O_NONBLOCK: a FIFO put in place of a file must not hang the open; it is then refused as not regular.
        var fd = Native.openat(Fd, Single(name), Native.ONofollow | Native.OCloexec | Native.ONonblock, 0);
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno != Native.ENXIO) ThrowUnlessGone(errno, name); // ENXIO: a socket
            return null;
        }
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        if (Native.Stat(fd, "", follow: false, emptyPath: true).Kind == Kind.File) return handle;
        handle.Dispose();
        return null;
    }

    /// <summary>A new file here (fails if the name is taken, by anything), open for writing.</summary>
    public SafeFileHandle CreateFile(string name, UnixFileMode mode, int? owner = null)
    {
        var fd = Native.Check(Native.openat(Fd, Single(name),
            Native.OWronly | Native.OCreat | Native.OExcl | Native.ONofollow | Native.OCloexec, (int)mode), Path + "/" + name);
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        if (owner is { } uid) Native.Check(Native.fchown(fd, uid, uid), Path + "/" + name);
        return handle;
    }

    /// <summary>Renames an entry of this folder to another name of this folder (replacing an empty folder of that name).</summary>
    public void Rename(string from, string to) =>
        Native.Check(Native.renameat(Fd, Single(from), Fd, Single(to)), $"{Path}/{from} → {to}");

    /// <summary>Removes an entry and, for a folder, everything in it; links are removed, not followed. Missing: nothing.</summary>
    public void Delete(string name)
    {
        var (kind, _) = Native.Stat(Fd, Single(name), follow: false);
        if (kind == Kind.Folder)
        {
            using var folder = OpenFolder(name);
            if (folder is not null)
                foreach (var (child, _) in folder.Entries()) folder.Delete(child);
            if (Native.unlinkat(Fd, name, Native.AtRemovedir) < 0 && Marshal.GetLastPInvokeError() is var e && e != Native.ENOENT)
                throw new IOException($"Could not remove {Path}/{name} ({Native.Describe(e)}).");
        }
        else if (Native.unlinkat(Fd, name, 0) < 0 && Marshal.GetLastPInvokeError() is var e && e != Native.ENOENT)
            throw new IOException($"Could not remove {Path}/{name} ({Native.Describe(e)}).");
    }

    static string Single(string name) =>
        name.Length == 0 || name is "." or ".." || name.Contains('/') || name.Contains('\0')
            ? throw new IOException($"'{name}' is not a single file name.")
            : name;

    /// <summary>Gone, a link or not of the kind asked for: the caller skips it; anything else is an error.</summary>
    void ThrowUnlessGone(int errno, string name)
    {
        if (errno is not (Native.ENOENT or Native.ELOOP or Native.ENOTDIR)) throw new IOException($"{Path}/{name}: {Native.Describe(errno)}.");
    }

    public void Dispose() => _handle.Dispose();

    static class Native
    {
        public const int ENOENT = 2, ENXIO = 6, ENOTDIR = 20, ELOOP = 40;
        public const int OWronly = 0x1, OCreat = 0x40, OExcl = 0x80, ONonblock = 0x800, OCloexec = 0x80000;
        public const int AtFdcwd = -100, AtSymlinkNofollow = 0x100, AtRemovedir = 0x200, AtEmptyPath = 0x1000;

        // The two flags that differ between Linux architectures (arm64 and the generic table vs x86).
        static readonly bool Generic = RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.RiscV64 or Architecture.LoongArch64;
        public static readonly int ODirectory = Generic ? 0x4000 : 0x10000;
        public static readonly int ONofollow = Generic ? 0x8000 : 0x20000;

        [DllImport("libc", SetLastError = true)] public static extern int open(string path, int flags);
        [DllImport("libc", SetLastError = true)] public static extern int openat(int dirfd, string path, int flags, int mode);
        [DllImport("libc", SetLastError = true)] public static extern int mkdirat(int dirfd, string path, int mode);
        [DllImport("libc", SetLastError = true)] public static extern int renameat(int olddirfd, string oldpath, int newdirfd, string newpath);
        [DllImport("libc", SetLastError = true)] public static extern int unlinkat(int dirfd, string path, int flags);
        [DllImport("libc", SetLastError = true)] public static extern int fchown(int fd, int owner, int group);
        [DllImport("libc", SetLastError = true)] public static extern int close(int fd);
        [DllImport("libc", SetLastError = true)] static extern nint readlinkat(int dirfd, string path, byte[] buffer, nint size);
        [DllImport("libc", SetLastError = true)] static extern int statx(int dirfd, string path, int flags, uint mask, byte[] buffer);

        public static int Check(int result, string what) =>
            result >= 0 ? result : throw new IOException($"{what}: {Describe(Marshal.GetLastPInvokeError())}.");

        public static string Describe(int errno) => Marshal.GetPInvokeErrorMessage(errno);

        /// <summary>What an entry is and its owner (statx: the same layout on every architecture).</summary>
        public static (Kind Kind, int Uid) Stat(int dirfd, string name, bool follow, bool emptyPath = false)
        {
            var buffer = new byte[256];
            const uint TypeModeUid = 0x1 | 0x2 | 0x8;
            var flags = (follow ? 0 : AtSymlinkNofollow) | (emptyPath ? AtEmptyPath : 0);
            if (statx(dirfd, name, flags, TypeModeUid, buffer) < 0) return (Kind.Other, -1);
            var mode = BitConverter.ToUInt16(buffer, 28) & 0xF000;
            var kind = mode switch { 0x8000 => Kind.File, 0x4000 => Kind.Folder, 0xA000 => Kind.Link, _ => Kind.Other };
            return (kind, BitConverter.ToInt32(buffer, 20));
        }

        public static string ReadLink(int dirfd, string name)
        {
            var buffer = new byte[4096];
            var n = readlinkat(dirfd, name, buffer, buffer.Length);
            if (n < 0) throw new IOException($"{name}: {Describe(Marshal.GetLastPInvokeError())}.");
            return System.Text.Encoding.UTF8.GetString(buffer, 0, (int)n);
        }
    }
}
