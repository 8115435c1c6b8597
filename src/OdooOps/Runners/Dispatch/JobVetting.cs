using OdooOps.Projects;
using static OdooOps.Runners.Protocol.RunnerProtocol;

namespace OdooOps.Runners.Dispatch;

/// <summary>
/// The server's last word on a leased job before a runner gets it: the repository must be one this server lets runners
/// fetch (a local path only with OPS_ALLOW_LOCAL_REPOS; never a remote helper), the stage's secret variables are opened
/// into <see cref="Job.Env"/> (and named in its secret names, masked in its log), and the project's repository credential
/// is decrypted into <see cref="Job.GitCredential"/> for this build alone. A job that cannot go is failed with the reason.
/// </summary>
internal static class JobVetting
{
    /// <summary>A leased build: its secrets opened, then <see cref="Vet(Job, DispatchStore.StoredCredential?, RepoSettings, RepoCredentialProtector)"/>.</summary>
    public static (Job? Ready, string? Refusal) Vet(Job job, IReadOnlyDictionary<string, string> sealedEnv, DispatchStore.StoredCredential? stored,
        RepoSettings repos, RepoCredentialProtector protector, EnvVars.EnvSecretBox secrets)
    {
        if (sealedEnv.Count > 0)
        {
            var env = new Dictionary<string, string>(job.Env);
            if (secrets.OpenInto(env, sealedEnv, job.ProjectId, job.Stage) is { Count: > 0 } unopened)
                return (null, $"The {job.Stage} secret variable{(unopened.Count == 1 ? "" : "s")} {string.Join(", ", unopened.Order(StringComparer.Ordinal))} " +
                              "cannot be decrypted (this server's secrets key is not the one that encrypted them): set them again in the project's environment variables.");
            job = job with { Env = env, SecretNames = [.. job.SecretNames.Union(sealedEnv.Keys).Order(StringComparer.Ordinal)] };
        }
        return Vet(job, stored, repos, protector);
    }

    public static (Job? Ready, string? Refusal) Vet(Job job, DispatchStore.StoredCredential? stored, RepoSettings repos, RepoCredentialProtector protector)
    {
        switch (ProjectRules.Kind(job.RepoUrl))
        {
            case ProjectRules.RepoKind.Local when !repos.AllowLocal:
                return (null, "The project's repository is a path on the runner's disk, which this server does not build from " +
                              $"({RepoSettings.AllowLocalKey} is off): set an https:// or ssh:// repository URL in the project's settings.");
            case ProjectRules.RepoKind.Refused:
                return (null, "The project's repository URL is not one a runner may fetch (an option, a remote helper such as ext:: or an unknown " +
                              "scheme): set an https:// or ssh:// repository URL in the project's settings.");
        }
        if (stored is null) return (job, null);
        // A project made before the URL rules may still name http:// or git://: its credential would cross the network in
        // clear (or go to whoever answers), so it is not handed out for such a URL.
        if (job.RepoUrl.TrimStart() is var url && (url.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || url.StartsWith("git://", StringComparison.OrdinalIgnoreCase)))
            return (null, "The project's repository URL is http:// or git://, which would send its repository credential unencrypted: " +
                          "set an https:// or ssh:// repository URL in the project's settings.");
        return protector.Unprotect(job.ProjectId, stored.Ciphertext) is { } secret
            ? (job with { GitCredential = new GitCredential(stored.Kind, stored.Username, secret) }, null)
            : (null, "The project's repository credential cannot be decrypted (the server's data-protection key that encrypted it is gone): " +
                     "set it again in the project's settings.");
    }
}
