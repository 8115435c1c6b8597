using System.Globalization;
using System.Text;

namespace OdooOps.Metrics;

/// <summary>
/// Sample timestamps: ISO 8601 / RFC 3339 date-times that carry their offset — "2026-02-12T17:30:00Z",
/// "2026-02-12T19:30:00.250+02:00", seconds and fraction optional. A time without an offset is refused rather than
/// guessed: the same text means different instants on hosts in different zones, and the instant is part of the
/// sample's identity. Parsed straight from the request's UTF-8 bytes (a batch may hold 10,000 of them).
/// </summary>
internal static class IngestTimestamp
{
    public const string Expected = "an ISO 8601 date-time with an offset, such as 2026-02-12T17:30:00Z or 2026-02-12T19:30:00+02:00";

    public static bool TryParse(string text, out DateTime utc) => TryParse(Encoding.UTF8.GetBytes(text), out utc);

    /// <summary>The instant in UTC, truncated to microseconds (PostgreSQL's precision) so that the duplicate check
    /// compares exactly what is stored.</summary>
    public static bool TryParse(ReadOnlySpan<byte> s, out DateTime utc)
    {
        utc = default;
        // yyyy-MM-ddTHH:mm is the shortest form, then an offset of at least "Z"
        if (s.Length < 17 || s[4] != '-' || s[7] != '-' || (s[10] | 0x20) != 't' || s[13] != ':') return false;
        if (!Digits(s, 0, 4, out var year) || !Digits(s, 5, 2, out var month) || !Digits(s, 8, 2, out var day) ||
            !Digits(s, 11, 2, out var hour) || !Digits(s, 14, 2, out var minute)) return false;
        var i = 16;
        int second = 0, micros = 0;
        if (s[i] == ':')
        {
            if (!Digits(s, i + 1, 2, out second)) return false;
            i += 3;
            if (i < s.Length && s[i] == '.')
            {
                var start = ++i;
                while (i < s.Length && IsDigit(s[i])) i++;
                var digits = i - start;
                if (digits is 0 or > 9) return false;
                for (var k = 0; k < 6; k++) micros = micros * 10 + (k < digits ? s[start + k] - '0' : 0);
            }
        }
        if (!TryOffset(s[i..], out var offset)) return false;
        if (month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(Math.Max(year, 1), month) ||
            hour > 23 || minute > 59 || second > 59 || year < 1) return false;
        var local = new DateTime(year, month, day, hour, minute, second, DateTimeKind.Unspecified).AddTicks(micros * 10L);
        var ticks = local.Ticks - offset.Ticks;
        if (ticks < DateTime.MinValue.Ticks || ticks > DateTime.MaxValue.Ticks) return false;
        utc = new DateTime(ticks, DateTimeKind.Utc);
        return true;
    }

    /// <summary>"Z", "+02:00", "-0530"; at most ±14:00 as in RFC 3339 practice.</summary>
    static bool TryOffset(ReadOnlySpan<byte> s, out TimeSpan offset)
    {
        offset = TimeSpan.Zero;
        if (s.Length == 1 && (s[0] | 0x20) == 'z') return true;
        if (s.Length is not (5 or 6) || (s[0] != '+' && s[0] != '-')) return false;
        var minuteAt = s.Length == 6 ? 4 : 3;
        if (s.Length == 6 && s[3] != ':') return false;
        if (!Digits(s, 1, 2, out var h) || !Digits(s, minuteAt, 2, out var m) || m > 59) return false;
        offset = new TimeSpan(h, m, 0) * (s[0] == '-' ? -1 : 1);
        return offset.Duration() <= TimeSpan.FromHours(14);
    }

    static bool IsDigit(byte b) => b is >= (byte)'0' and <= (byte)'9';

    static bool Digits(ReadOnlySpan<byte> s, int at, int count, out int value)
    {
        value = 0;
        if (at + count > s.Length) return false;
        for (var k = at; k < at + count; k++)
        {
            if (!IsDigit(s[k])) return false;
            value = value * 10 + (s[k] - '0');
        }
        return true;
    }

    /// <summary>What the CLI sends: UTC with microseconds.</summary>
    public static string Format(DateTime utc) =>
        utc.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);
}
