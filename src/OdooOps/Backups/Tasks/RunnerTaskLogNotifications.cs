using OdooOps.Database;

namespace OdooOps.Backups.Tasks;

/// <summary>
/// The <c>task_logs</c> notifications (sent by the task functions after a log batch, a server line and a task's end;
/// payload: the task id), fanned out to whatever follows that task's log live.
/// </summary>
public sealed class RunnerTaskLogNotifications(PgNotifications listener) : KeyedNotifications(listener, PgNotifications.TaskLogs);
