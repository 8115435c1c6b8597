using OdooOps.Database;

namespace OdooOps.Builds;

/// <summary>
/// The <c>ops_build_logs</c> notifications, fanned out to the log streams waiting on a build. Runners' functions
/// notify after every log batch, step report and finish (payload: the build id); the <see cref="BuildLogWatcher"/>
/// covers what no notification announced.
/// </summary>
public sealed class BuildLogNotifications(PgNotifications listener) : KeyedNotifications(listener, PgNotifications.BuildLogs);
