using OdooOps.Builds;
using OdooOps.Builds.Pages;

namespace OdooOps.Tests.Builds;

/// <summary>The console's log colours (AnsiText, mirrored by build-log.js), commit wording and the modules column parser.</summary>
public sealed class BuildDisplayTests
{
    static string Render(string line) =>
        string.Concat(AnsiText.Segments(line).Select(s => s.Classes is null ? s.Text : $"[{s.Classes}]{s.Text}[/]"));

    [Theory]
    [InlineData("plain text", "plain text")]
    [InlineData("\u001b[31mred\u001b[0m after", "[ansi-fg-1]red[/] after")]
    [InlineData("\u001b[1;32mbold green\u001b[22m green\u001b[39m none", "[ansi-bold ansi-fg-2]bold green[/][ansi-fg-2] green[/] none")]
    [InlineData("\u001b[91mbright\u001b[m x", "[ansi-fg-9]bright[/] x")]
    [InlineData("\u001b[38;5;31mindexed\u001b[0m", "indexed")] // 256 colours are not read as "31 = red"
    [InlineData("\u001b[48;2;1;2;33mrgb bg", "rgb bg")]
    [InlineData("a\u001b[2Kb\u001b]0;title\u0007c", "abc")] // cursor and title sequences are dropped
    [InlineData("cut \u001b[", "cut ")]
    [InlineData("<b>&amp;</b>", "<b>&amp;</b>")] // text stays text: Razor escapes it when rendering
    public void Terminal_colours_become_classes_and_other_escapes_vanish(string line, string expected) =>
        Assert.Equal(expected, Render(line));

    [Theory]
    [InlineData(null, null)]
    [InlineData("  ", null)]
    [InlineData("Fix invoices\n\nBecause reasons", "Fix invoices")]
    public void The_commit_subject_is_its_first_line(string? message, string? subject) => Assert.Equal(subject, BuildDisplay.Subject(message));

    [Fact]
    public void A_long_subject_is_cut() => Assert.Equal(100, BuildDisplay.Subject(new string('x', 300))!.Length);

    [Fact]
    public void Modules_parse_leniently()
    {
        var modules = BuildLogStore.ParseModules("""[{"name": "b", "depends": ["a"]}, {"name": "a", "installable": false}, {"path": "nameless"}, null]""");
        Assert.Equal(["a", "b"], modules.Select(m => m.Name));
        Assert.False(modules[0].Installable);
        Assert.True(modules[1].Installable);
        Assert.Equal(["a"], modules[1].Depends);
        Assert.Empty(BuildLogStore.ParseModules("not json"));
        Assert.Empty(BuildLogStore.ParseModules("{}"));
    }
}
