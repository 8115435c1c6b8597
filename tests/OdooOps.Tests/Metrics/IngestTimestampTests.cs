using System.Text;
using OdooOps.Metrics;

namespace OdooOps.Tests.Metrics;

/// <summary>Which timestamps the ingest body accepts (an instant needs an offset) and the instant each one means.</summary>
public sealed class IngestTimestampTests
{
    [Theory]
    [InlineData("2026-02-12T17:30:00Z", "2026-02-12T17:30:00.0000000Z")]
    [InlineData("2026-02-12t17:30:00z", "2026-02-12T17:30:00.0000000Z")]
    [InlineData("2026-02-12T17:30Z", "2026-02-12T17:30:00.0000000Z")]
    [InlineData("2026-02-12T19:30:00+02:00", "2026-02-12T17:30:00.0000000Z")]
    [InlineData("2026-02-12T12:00:00-0530", "2026-02-12T17:30:00.0000000Z")]
    [InlineData("2026-02-12T17:30:00.25Z", "2026-02-12T17:30:00.2500000Z")]
    [InlineData("2026-02-12T17:30:00.123456789Z", "2026-02-12T17:30:00.1234560Z")] // truncated to microseconds, as stored
    [InlineData("2026-02-13T00:30:00+07:00", "2026-02-12T17:30:00.0000000Z")]
    [InlineData("2024-02-29T00:00:00Z", "2024-02-29T00:00:00.0000000Z")]
    public void Accepts_a_date_time_with_an_offset(string text, string utc)
    {
        Assert.True(IngestTimestamp.TryParse(text, out var parsed), text);
        Assert.Equal(DateTimeKind.Utc, parsed.Kind);
        Assert.Equal(utc, parsed.ToString("O"));
    }

    [Theory]
    [InlineData("2026-02-12T17:30:00")]          // no offset: which zone?
    [InlineData("2026-02-12 17:30:00Z")]         // a space is not ISO 8601's T
    [InlineData("2026-02-12")]
    [InlineData("2026-02-30T10:00:00Z")]
    [InlineData("2025-02-29T10:00:00Z")]
    [InlineData("2026-02-12T24:00:00Z")]
    [InlineData("2026-02-12T17:60:00Z")]
    [InlineData("2026-02-12T17:30:61Z")]
    [InlineData("2026-02-12T17:30:00.Z")]
    [InlineData("2026-02-12T17:30:00.1234567890Z")]
    [InlineData("2026-02-12T17:30:00+15:00")]
    [InlineData("2026-02-12T17:30:00+02")]
    [InlineData("2026-02-12T17:30:00Z ")]
    [InlineData("２０２６-02-12T17:30:00Z")]     // full-width digits
    [InlineData("1771000000")]
    [InlineData("")]
    public void Refuses_anything_else(string text) => Assert.False(IngestTimestamp.TryParse(Encoding.UTF8.GetBytes(text), out _), text);

    [Fact]
    public void The_cli_format_round_trips()
    {
        var now = new DateTime(2026, 11, 25, 20, 0, 0, DateTimeKind.Utc).AddTicks(1234560);
        Assert.True(IngestTimestamp.TryParse(IngestTimestamp.Format(now), out var back));
        Assert.Equal(now, back);
    }
}
