using OdooOps.Database;

namespace OdooOps.Builds;

/// <summary>
/// The build log streams' fallback behind the notifications: every OPS_BUILD_LOG_POLL_SECONDS one query,
/// <c>ops.build_log_marks</c> (status, last line, steps), over the builds that have live streams here.
/// </summary>
internal sealed class BuildLogWatcher(BuildLogNotifications notifications, OpsDatabase db, BuildLogStreamSettings settings,
    ILogger<BuildLogWatcher> log)
    : MarkWatcher(notifications, db, () => settings.Poll, log, "select build_id, mark from ops.build_log_marks(@ids)", "build log");
