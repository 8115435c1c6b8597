using System.Globalization;
using System.Text.RegularExpressions;

namespace OdooOps.Server;

/// <summary>
/// A moment typed by a person or a script: a date (YYYY-MM-DD, a whole day in UTC — what a console date field sends) or
/// an ISO 8601 time with an explicit offset (Z or ±hh:mm). A time without an offset is refused: "9:00" means a different
/// moment to every reader, and the server's own time zone must not decide it.
/// </summary>
internal static partial class TimeInput
{
    /// <param name="Start">The moment, or the start of the day (00:00 UTC).</param>
    /// <param name="WholeDay">A date: the day runs from <paramref name="Start"/> to the next day's start.</param>
    public readonly record struct Moment(DateTimeOffset Start, bool WholeDay)
    {
        /// <summary>Where the moment ends: the next day's start for a date, else the moment itself.</summary>
        public DateTimeOffset End => WholeDay ? Start.AddDays(1) : Start;
    }

    public const string Formats = "a date (2030-01-31, a whole day in UTC) or an ISO 8601 time with offset, such as 2030-01-31T09:00:00+01:00 or 2030-01-31T08:00:00Z";

    public static Moment? Parse(string? raw)
    {
        if (raw is null) return null;
        if (DateOnly.TryParseExact(raw, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
            return new Moment(new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero), true);
        return WithOffset().IsMatch(raw) && DateTimeOffset.TryParse(raw, CultureInfo.InvariantCulture, DateTimeStyles.None, out var at)
            ? new Moment(at, false)
            : null;
    }

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2})$")] private static partial Regex WithOffset();
}
