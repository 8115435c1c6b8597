using System.Security.Cryptography;
using System.Text;

namespace OdooOps.Auth;

/// <summary>
/// Secrets handed to people and machines (personal access tokens, later ingest and runner tokens):
/// a recognisable prefix plus 256 random bits. Only a SHA-256 of the whole token is stored; look-ups go by
/// that hash, so the token itself is never compared byte by byte and never stored or logged.
/// </summary>
public static class AccessTokens
{
    public const string PersonalPrefix = "oo_pat_";
    const string Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    public static string Create(string prefix)
    {
        var chars = new char[43]; // 43 base62 characters ≈ 256 bits
        for (var i = 0; i < chars.Length; i++) chars[i] = Alphabet[RandomNumberGenerator.GetInt32(Alphabet.Length)];
        return prefix + new string(chars);
    }

    public static byte[] Hash(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));

    /// <summary>What lists show to tell tokens apart: the prefix and the first characters.</summary>
    public static string Preview(string token) => token[..Math.Min(token.Length, 12)];
}
