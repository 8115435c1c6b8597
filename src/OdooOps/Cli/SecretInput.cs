using System.CommandLine;
using System.Security.Cryptography;
using System.Text;

namespace OdooOps.Cli;

/// <summary>
/// Where passwords come from: one line of stdin (--password-stdin), an environment variable, a prompt without
/// echo on a terminal, or — for new accounts only — a generated one that is printed once. Never a flag value,
/// which would sit in shell history and in `ps`.
/// </summary>
internal static class SecretInput
{
    public const string NewPasswordVariable = "OPS_NEW_PASSWORD";
    public const int MinPasswordLength = 8;
    public const int MaxPasswordLength = 1000;

    public static Option<bool> PasswordStdinOption() => new("--password-stdin")
    {
        Description = $"Read the password from the first line of stdin (otherwise env {NewPasswordVariable}, otherwise one is generated and printed once).",
    };

    /// <summary>A password for an account: stdin, then OPS_NEW_PASSWORD, then generated (<paramref name="generated"/> says so).</summary>
    public static string NewPassword(bool fromStdin, out bool generated)
    {
        generated = false;
        var given = fromStdin ? ReadStdinLine("password") : Environment.GetEnvironmentVariable(NewPasswordVariable);
        if (string.IsNullOrEmpty(given))
        {
            generated = true;
            return Generate();
        }
        if (given.Length < MinPasswordLength) throw new ArgumentException($"The password must be at least {MinPasswordLength} characters.");
        if (given.Length > MaxPasswordLength) throw new ArgumentException($"The password must be at most {MaxPasswordLength} characters.");
        return given;
    }

    /// <summary>One line from stdin, without its line ending; a missing line is an error, not an empty secret.</summary>
    public static string ReadStdinLine(string what) =>
        Console.In.ReadLine() is { } line && line.TrimEnd('\r') is { Length: > 0 } value
            ? value
            : throw new ArgumentException($"Expected the {what} on the first line of stdin, found nothing.");

    /// <summary>Asks on stderr and reads keys without echoing them; only when stdin is a terminal.</summary>
    public static string Prompt(string label, bool echo, string instead)
    {
        if (Console.IsInputRedirected)
            throw new ArgumentException($"stdin is not a terminal, so the {label.ToLowerInvariant()} cannot be asked: use {instead}.");
        Console.Error.Write($"{label}: ");
        if (echo) return Console.ReadLine()?.Trim() ?? "";
        var value = new StringBuilder();
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter) break;
            if (key.Key == ConsoleKey.Backspace) { if (value.Length > 0) value.Length--; }
            else if (!char.IsControl(key.KeyChar)) value.Append(key.KeyChar);
        }
        Console.Error.WriteLine();
        return value.ToString();
    }

    /// <summary>20 characters from a 57-letter alphabet without look-alikes (≈116 bits).</summary>
    public static string Generate()
    {
        const string alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        return string.Create(20, 0, static (span, _) =>
        {
            for (var i = 0; i < span.Length; i++) span[i] = alphabet[RandomNumberGenerator.GetInt32(alphabet.Length)];
        });
    }
}
