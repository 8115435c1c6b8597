using OdooOps.Deployments;
using OdooOps.Metrics;
using OdooOps.Metrics.Pages;

namespace OdooOps.Tests.Metrics;

/// <summary>The Metrics page's pure rules: its links, the custom range's fields read as UTC, the words for a source, the deployment labels, the metric formats.</summary>
public sealed class MetricsViewTests
{
    [Fact]
    public void Links_keep_the_choices_and_only_custom_keeps_its_bounds()
    {
        Assert.Equal("app/metrics?project=prod-erp&branch=feature%2Fx&range=7d", MetricsView.Link("prod-erp", "feature/x", "7d", "a", "b"));
        Assert.Equal("app/metrics?project=p&range=custom&from=2026-03-01T10%3A00&to=2026-03-02T10%3A00",
            MetricsView.Link("p", null, "custom", "2026-03-01T10:00", "2026-03-02T10:00"));
    }

    [Theory]
    [InlineData("2026-03-01T10:00", "2026-03-01T10:00Z")]
    [InlineData("2026-03-01T10:00:30", "2026-03-01T10:00:30Z")]
    [InlineData("2026-03-01T10:00:00+02:00", "2026-03-01T10:00:00+02:00")] // already has its offset
    [InlineData("yesterday", "yesterday")] // the series query names what is wrong with it
    [InlineData(" ", null)]
    public void A_datetime_local_value_is_read_as_utc(string input, string? expected) => Assert.Equal(expected, MetricsView.AsUtc(input));

    [Fact]
    public void The_source_and_step_are_said_in_words()
    {
        var now = new DateTime(2026, 3, 14, 12, 0, 0, DateTimeKind.Utc);
        Assert.Equal("raw samples, 15 s steps", MetricsView.Source(MetricSeriesQuery.ParseSpan(null, null, null, null, now, "1h").Query!));
        Assert.Equal("minute rollups, 5 min steps", MetricsView.Source(MetricSeriesQuery.ParseSpan(null, null, null, null, now, "24h").Query!));
        Assert.Equal("hour rollups, 3 h steps", MetricsView.Source(MetricSeriesQuery.ParseSpan(null, null, null, null, now, "30d").Query!));
        Assert.Equal("hour rollups, 1 h steps", MetricsView.Source(MetricSeriesQuery.ParseSpan(null, null, null, "1h", now, "24h").Query!));
    }

    [Fact]
    public void Deployments_and_values_read_at_a_glance()
    {
        var at = DateTime.UtcNow;
        Assert.Equal("deploy abcdef0", MetricsView.MarkerLabel(new DeploymentStore.Marker(at, "live", "build", null, "abcdef0123")));
        Assert.Equal("failed deploy abcdef0", MetricsView.MarkerLabel(new DeploymentStore.Marker(at, "failed", "build", null, "abcdef0123")));
        Assert.Equal("rollback", MetricsView.MarkerLabel(new DeploymentStore.Marker(at, "live", "rollback", null, null)));
        Assert.Equal("45.2%", MetricCatalog.Format("cpu_pct", 45.24));
        Assert.Equal("1,024 MB", MetricCatalog.Format("mem_mb", 1024.4));
        Assert.Equal("0.37", MetricCatalog.Format("my.custom", 0.371));
        Assert.Equal("—", MetricCatalog.Format("cpu_pct", null));
        Assert.Equal(["cpu_pct", "mem_mb", "response_ms", "a.pushed", "z_pushed"], MetricCatalog.Ordered(["z_pushed", "response_ms", "a.pushed", "mem_mb", "cpu_pct"]));
    }
}
