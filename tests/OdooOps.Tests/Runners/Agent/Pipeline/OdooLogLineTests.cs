using OdooOps.Runners.Agent.Pipeline;

namespace OdooOps.Tests.Runners.Agent.Pipeline;

/// <summary>Odoo log lines recognised strictly, with and without colour codes; escape sequences stripped.</summary>
public sealed class OdooLogLineTests
{
    [Theory]
    [InlineData("2024-05-01 10:00:00,123 4242 WARNING dbname odoo.addons.base: message", OdooLogLevel.Warning)]
    [InlineData("2024-05-01 10:00:00,123 4242 DEBUG ? odoo.modules.loading: loading 1 modules...", OdooLogLevel.Debug)]
    [InlineData("2024-05-01 10:00:00,123 1 INFO build_42 odoo.addons.sale_extras.tests.test_sale: Starting TestSale.test_x ...", OdooLogLevel.Info)]
    [InlineData("2024-12-31 23:59:59,999 4242 ERROR db odoo.addons.x.tests.test_y: FAIL: TestY.test_z", OdooLogLevel.Error)]
    [InlineData("2024-05-01 10:00:00,123 4242 CRITICAL db odoo.service.server: Failed to initialize database `db`.", OdooLogLevel.Critical)]
    [InlineData("2024-05-01 10:00:00,123 4242 INFO db werkzeug:", OdooLogLevel.Info)]
    [InlineData("2024-05-01 10:00:00,123 4242 \x1b[1;33m\x1b[1;40mWARNING\x1b[0m db py.warnings: DeprecationWarning", OdooLogLevel.Warning)]
    [InlineData("2024-05-01 10:00:00,123 4242 \x1b[1;31m\x1b[1;40mERROR\x1b[0m db odoo.sql_db: bad query", OdooLogLevel.Error)]
    [InlineData("\x1b[0m2024-05-01 10:00:00,123 4242 \x1b[1;35m\x1b[1;41mCRITICAL\x1b[0m db odoo: boom", OdooLogLevel.Critical)]
    [InlineData("\x1b]0;odoo\x07\x1b[32m2024-05-01 10:00:00,123 4242 INFO db odoo: ok\x1b[0m\r", OdooLogLevel.Info)]
    public void Recognises_odoo_lines(string line, OdooLogLevel level) => Assert.Equal(level, OdooLogLine.Level(line));

    [Theory]
    [InlineData("ERROR: could not find a version that satisfies the requirement")]
    [InlineData("npm ERR! ERROR something")]
    [InlineData("Traceback (most recent call last):")]
    [InlineData("2024-05-01 10:00:00 4242 ERROR db odoo: no millis")]
    [InlineData("2024-05-01 10:00:00.123 4242 ERROR db odoo: dot millis")]
    [InlineData("2024-05-01 10:00:00,123 ERROR db odoo: no pid")]
    [InlineData("2024-05-01 10:00:00,123 4242 Error db odoo: wrong case")]
    [InlineData("2024-05-01 10:00:00,123 4242 FATAL db odoo: unknown level")]
    [InlineData("2024-05-01 10:00:00,123 4242 ERROR")]
    [InlineData("2024-05-01 10:00:00,123 4242 ERROR db no logger colon")]
    [InlineData("2024-13-01 10:00:00,123 4242 ERROR db odoo: month 13")]
    [InlineData("2024-05-01 25:00:00,123 4242 ERROR db odoo: hour 25")]
    [InlineData("  2024-05-01 10:00:00,123 4242 ERROR db odoo: indented")]
    [InlineData("log: 2024-05-01 10:00:00,123 4242 ERROR db odoo: quoted inside other text")]
    [InlineData("")]
    public void Ignores_everything_else(string line) => Assert.Null(OdooLogLine.Level(line));

    [Fact]
    public void Worst_keeps_the_more_severe_level()
    {
        Assert.Null(OdooLogLine.Worst(null, null));
        Assert.Equal(OdooLogLevel.Info, OdooLogLine.Worst(null, OdooLogLevel.Info));
        Assert.Equal(OdooLogLevel.Warning, OdooLogLine.Worst(OdooLogLevel.Warning, null));
        Assert.Equal(OdooLogLevel.Error, OdooLogLine.Worst(OdooLogLevel.Error, OdooLogLevel.Warning));
        Assert.Equal(OdooLogLevel.Critical, OdooLogLine.Worst(OdooLogLevel.Info, OdooLogLevel.Critical));
    }

    [Theory]
    [InlineData("plain text", "plain text")]
    [InlineData("\x1b[1;31mred\x1b[0m", "red")]
    [InlineData("\x1b[38;5;196mcolour\x1b[m \x1b[2K\x1b[1A", "colour ")]
    [InlineData("\x1b[?25lhidden cursor\x1b[?25h", "hidden cursor")]
    [InlineData("\x1b]0;title\x07text", "text")]
    [InlineData("\x1b]8;;https://example.com\x1b\\link\x1b]8;;\x1b\\", "link")]
    [InlineData("\x1b(Bcharset", "charset")]
    [InlineData("\x1b=keypad\x1b>", "keypad")]
    [InlineData("\u009b1mC1 CSI", "C1 CSI")]
    [InlineData("cut\x1b[", "cut")]
    [InlineData("cut\x1b", "cut")]
    [InlineData("cut\x1b]0;unterminated", "cut")]
    public void Strips_escape_sequences(string line, string expected) => Assert.Equal(expected, AnsiEscapes.Strip(line));
}
