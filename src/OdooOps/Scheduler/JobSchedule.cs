using Cronos;

namespace OdooOps.Scheduler;

/// <summary>
/// The registry's jobs with the cron each one runs on. Configuration: <c>OPS_JOB_&lt;name&gt;</c> (environment
/// variable, or the same key at the top level of appsettings.json, like every OPS_* setting) overrides the job's
/// default cron. Cron is evaluated in UTC; five fields (minute hour day-of-month month day-of-week) or six with
/// seconds first; Cronos macros such as @hourly work too. A bad value stops start-up with a line naming the key.
/// </summary>
public sealed class JobSchedule
{
    public const string KeyPrefix = "OPS_JOB_";

    public sealed record Entry(ScheduledJob Job, string Cron, CronExpression Expression)
    {
        public string ConfigKey => KeyPrefix + Job.Name;

        /// <summary>The first tick strictly after <paramref name="instant"/>; null when the cron never fires again.</summary>
        public DateTimeOffset? NextAfter(DateTimeOffset instant) => Expression.GetNextOccurrence(instant, TimeZoneInfo.Utc);

        /// <summary>The latest tick in (after, upTo], or null: what is due once the clock has passed one or more ticks.</summary>
        public DateTimeOffset? LatestDue(DateTimeOffset after, DateTimeOffset upTo) =>
            upTo <= after ? null : Expression.GetOccurrences(after, upTo, TimeZoneInfo.Utc, fromInclusive: false, toInclusive: true)
                .Select(o => (DateTimeOffset?)o).LastOrDefault();

        /// <summary>Whether <paramref name="instant"/> is one of this job's ticks.</summary>
        public bool FiresAt(DateTimeOffset instant) => Expression.GetNextOccurrence(instant, TimeZoneInfo.Utc, inclusive: true) == instant;
    }

    JobSchedule(IReadOnlyList<Entry> entries) => Entries = entries;

    public IReadOnlyList<Entry> Entries { get; }

    public Entry? Find(string name) => Entries.FirstOrDefault(e => e.Job.Name == name);

    public static JobSchedule Build(IEnumerable<ScheduledJob> jobs, IConfiguration config)
    {
        var entries = new List<Entry>();
        foreach (var job in jobs)
        {
            if (!ScheduledJob.NamePattern().IsMatch(job.Name))
                throw new InvalidOperationException($"Scheduled job name '{job.Name}' must match ^[a-z][a-z0-9_]{{0,62}}$.");
            if (entries.Any(e => e.Job.Name == job.Name))
                throw new InvalidOperationException($"Scheduled job '{job.Name}' is registered twice.");
            if (job.Timeout <= TimeSpan.Zero)
                throw new InvalidOperationException($"Scheduled job '{job.Name}' needs a positive timeout.");

            var key = KeyPrefix + job.Name;
            var configured = config[key];
            var cron = string.IsNullOrWhiteSpace(configured) ? job.DefaultCron : configured.Trim();
            entries.Add(new Entry(job, cron, Parse(key, cron)));
            job.CheckSettings?.Invoke(config);
        }
        return new JobSchedule(entries);
    }

    static CronExpression Parse(string key, string cron)
    {
        // Six fields means the first is seconds; anything else is read as standard cron (or a macro) and Cronos says what is wrong.
        var format = cron.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length == 6 ? CronFormat.IncludeSeconds : CronFormat.Standard;
        try
        {
            return CronExpression.Parse(cron, format);
        }
        catch (CronFormatException e)
        {
            throw new InvalidOperationException(
                $"{key}: '{cron}' is not a valid cron expression ({e.Message.TrimEnd('.')}); use 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first, in UTC.");
        }
    }
}
