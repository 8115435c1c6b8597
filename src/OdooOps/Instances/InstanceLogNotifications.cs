using OdooOps.Builds;
using OdooOps.Database;

namespace OdooOps.Instances;

/// <summary>
/// The <c>instance_logs</c> notifications (ops.append_instance_logs sends one after every batch; payload: the instance
/// id), fanned out to the log streams waiting on that instance.
/// </summary>
public sealed class InstanceLogNotifications(PgNotifications listener) : KeyedNotifications(listener, PgNotifications.InstanceLogs);

/// <summary>
/// The instance log streams' fallback: every OPS_BUILD_LOG_POLL_SECONDS (the live logs' one setting) one query,
/// <c>ops.instance_log_marks</c> (state, desired, restarts, reason, last line), over the instances that have live
/// streams here. The runner's state reports send no notification, so this is also how a stream learns of a new state.
/// </summary>
internal sealed class InstanceLogWatcher(InstanceLogNotifications notifications, OpsDatabase db, BuildLogStreamSettings settings,
    ILogger<InstanceLogWatcher> log)
    : MarkWatcher(notifications, db, () => settings.Poll, log, "select instance_id, mark from ops.instance_log_marks(@ids)", "instance log");
