namespace OdooOps.Notifications;

/// <summary>
/// What a channel can subscribe to, as the source tables' triggers write it (Notifications/Sql/*_notify.sql), with the
/// words the console and the CLI show. <c>build.succeeded</c> is opt-in: new channels get every other event.
/// </summary>
internal static class NotificationEvents
{
    public sealed record Info(string Name, string Label, string Description);

    public static readonly IReadOnlyList<Info> All =
    [
        new("build.failed", "Build failed", "a build failed or timed out"),
        new("build.succeeded", "Build succeeded", "every successful build (opt-in: it is most builds)"),
        new("build.fixed", "Build fixed", "the first success on a branch after a failure"),
        new("deployment.succeeded", "Deployment live", "a release (or a rollback) went live on a branch"),
        new("deployment.failed", "Deployment failed", "a release's instance failed before going live"),
        new("deployment.reverted", "Deployment reverted", "a failed production update was undone, the database restored"),
        new("backup.failed", "Backup failed", "a backup could not be taken"),
        new("backup.verification_failed", "Backup not verified", "restoring a backup to prove it failed"),
        new("instance.down", "Instance down", "a branch's current instance stopped answering, failed, or its runner went silent"),
        new("instance.recovered", "Instance recovered", "it runs again"),
        new("advisory.opened", "Advisory opened", "an advisory at or above the channel's least severity opened"),
        new("advisory.resolved", "Advisory resolved", "such an advisory resolved"),
    ];

    /// <summary>The event "send a test" writes; no channel subscribes to it.</summary>
    public const string Test = "notification.test";

    public static readonly IReadOnlyList<string> Names = [.. All.Select(e => e.Name)];

    public static readonly IReadOnlyList<string> Defaults = [.. Names.Where(n => n != "build.succeeded")];

    public static readonly string[] Severities = ["info", "warning", "critical"];

    public static readonly string[] Kinds = ["webhook", "slack", "email"];

    public static string Label(string name) => All.FirstOrDefault(e => e.Name == name)?.Label ?? (name == Test ? "Test" : name);

    public static string KindLabel(string kind) => kind switch
    {
        "webhook" => "Webhook",
        "slack" => "Slack / Mattermost",
        "email" => "E-mail",
        _ => kind,
    };
}
