using Microsoft.AspNetCore.Identity;

namespace OdooOps.Auth;

/// <summary>ASP.NET Core Identity's PBKDF2 password hashing (versioned format, rehash-aware).</summary>
public static class Passwords
{
    sealed class Account;

    static readonly PasswordHasher<Account> Hasher = new();
    static readonly Account Subject = new();

    public static string Hash(string password) => Hasher.HashPassword(Subject, password);

    public static bool Verify(string hash, string password) =>
        Hasher.VerifyHashedPassword(Subject, hash, password) != PasswordVerificationResult.Failed;
}
