using System.Buffers.Binary;
using System.Text;
using System.Text.RegularExpressions;
using OdooOps.Server;
using static OdooOps.Runners.Protocol.RunnerProtocol;

namespace OdooOps.Projects;

/// <summary>
/// What a repository credential may be: a token (an https password: a personal access token, a GitHub App or deploy
/// token), with an optional user name, or an SSH private key without a passphrase (a runner cannot type one). Messages
/// never quote the secret.
/// </summary>
internal static partial class RepoCredentialRules
{
    public sealed record Input(string? Kind, string? Username, string? Secret);
    public sealed record FieldNames(string Kind, string Username, string Secret);
    public static readonly FieldNames ApiFields = new("kind", "username", "secret");

    public const int MaxTokenLength = 4096, MaxKeyLength = 16384, MaxUsernameLength = 200;

    /// <summary>The checked credential, its key text normalised (LF line ends and a final newline, as ssh wants).</summary>
    public static Validation Validate(Input input, FieldNames f, out GitCredential? credential)
    {
        credential = null;
        var v = new Validation().OneOf(f.Kind, input.Kind, GitCredential.Token, GitCredential.SshKey);
        if (input.Kind is null) v.Add(f.Kind, $"{f.Kind} is required: {GitCredential.Token} or {GitCredential.SshKey}.");
        var secret = input.Secret ?? "";
        if (secret.Trim().Length == 0) return v.Add(f.Secret, $"{f.Secret} is required.");
        var username = string.IsNullOrEmpty(input.Username) ? null : input.Username;
        if (input.Kind == GitCredential.Token)
        {
            secret = secret.Trim();
            if (secret.Length > MaxTokenLength) v.Add(f.Secret, $"{f.Secret} must be at most {MaxTokenLength} characters.");
            else if (secret.Any(c => char.IsWhiteSpace(c) || char.IsControl(c))) v.Add(f.Secret, $"{f.Secret}: a token has no spaces or line breaks.");
            if (username is not null && (username.Length > MaxUsernameLength || username.Any(c => c == ':' || char.IsWhiteSpace(c) || char.IsControl(c))))
                v.Add(f.Username, $"{f.Username} must be at most {MaxUsernameLength} characters, without spaces or ':'.");
        }
        else if (input.Kind == GitCredential.SshKey)
        {
            if (username is not null) v.Add(f.Username, $"{f.Username} is for tokens only: an SSH key's user is the one in the repository URL (git@…).");
            secret = secret.Replace("\r\n", "\n").Trim() + "\n";
            if (KeyProblem(secret) is { } problem) v.Add(f.Secret, $"{f.Secret} {problem}");
        }
        if (v.IsValid) credential = new GitCredential(input.Kind!, username, secret);
        return v;
    }

    static string? KeyProblem(string key)
    {
        if (key.Length > MaxKeyLength) return $"must be at most {MaxKeyLength} characters.";
        if (PublicKeyPattern().IsMatch(key))
            return "is a public key: give the private key here, and add the public one to the repository as a deploy key.";
        var m = PrivateKeyPattern().Match(key);
        if (!m.Success) return "must be an SSH private key in OpenSSH or PEM form (-----BEGIN OPENSSH PRIVATE KEY----- …).";
        if (m.Groups[1].Value == "ENCRYPTED " || key.Contains("Proc-Type: 4,ENCRYPTED", StringComparison.Ordinal) || !OpenSshUnencrypted(m))
            return "has a passphrase, which a runner cannot type: use a deploy key made without one (ssh-keygen -N '').";
        return null;
    }

    /// <summary>An OpenSSH key names its cipher right after the magic: "none" for a key without a passphrase.</summary>
    static bool OpenSshUnencrypted(Match m)
    {
        if (m.Groups[1].Value != "OPENSSH ") return true;
        Span<byte> bytes = new byte[m.Groups[2].Length];
        if (!Convert.TryFromBase64String(m.Groups[2].Value.Replace("\n", ""), bytes, out var n)) return false;
        var magic = "openssh-key-v1\0"u8;
        if (n < magic.Length + 4 || !bytes[..magic.Length].SequenceEqual(magic)) return false;
        var length = BinaryPrimitives.ReadInt32BigEndian(bytes[magic.Length..]);
        return length is > 0 and < 64 && n >= magic.Length + 4 + length &&
               Encoding.ASCII.GetString(bytes.Slice(magic.Length + 4, length)) == "none";
    }

    [GeneratedRegex(@"^(ssh-|ecdsa-|sk-)[a-z0-9@.-]+ [A-Za-z0-9+/=]+")] private static partial Regex PublicKeyPattern();
    [GeneratedRegex(@"^-----BEGIN ((?:OPENSSH |RSA |EC |DSA |ENCRYPTED )?)PRIVATE KEY-----\n([\s\S]+?)\n-----END \1PRIVATE KEY-----\n$")]
    private static partial Regex PrivateKeyPattern();
}
