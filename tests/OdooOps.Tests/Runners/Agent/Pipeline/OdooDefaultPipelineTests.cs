using System.Diagnostics;
using OdooOps.Runners.Agent.Pipeline;

namespace OdooOps.Tests.Runners.Agent.Pipeline;

/// <summary>
/// The pipeline used without <c>.odooops.yml</c>. The odoo step's script is run by bash against a stand-in odoo-bin
/// that records its arguments, so the tests see exactly what Odoo would receive.
/// </summary>
public sealed class OdooDefaultPipelineTests : IDisposable
{
    readonly DirectoryInfo dir = Directory.CreateTempSubdirectory("odooops-default-");
    readonly string odooBin;

    public OdooDefaultPipelineTests()
    {
        Directory.CreateDirectory(Path.Combine(dir.FullName, "repo"));
        odooBin = Path.Combine(dir.FullName, "odoo dir", "odoo-bin");
        Directory.CreateDirectory(Path.GetDirectoryName(odooBin)!);
        File.WriteAllText(odooBin, "#!/bin/bash\n{ printf '%s\\n' \"$@\"; echo ---; } >> \"$CALLS\"\n");
        File.SetUnixFileMode(odooBin, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    public void Dispose() => dir.Delete(true);

    static OdooModule Module(string path, string? version = "1.0", bool installable = true, params string[] depends) =>
        new(path.Split('/')[^1], path, null, version, depends, installable);

    static readonly OdooModule[] Modules =
    [
        Module("addons/sale_extras", "17.0.1.0.2", true, "sale", "stock"),
        Module("addons/crm_extras", "17.0.1.0.0", true, "crm", "sale"),
        Module("partner_tools", null, true, "base"),
        Module("addons/old_module", "1.0", false, "account"),
    ];

    /// <summary>Runs the script from the repository root and returns each odoo-bin call's arguments.</summary>
    List<string[]> Run(string script)
    {
        var calls = Path.Combine(dir.FullName, "calls.txt");
        File.Delete(calls);
        var start = new ProcessStartInfo("bash", ["-c", script]) { WorkingDirectory = Path.Combine(dir.FullName, "repo"), RedirectStandardError = true };
        start.Environment["CALLS"] = calls;
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, stderr);
        if (!File.Exists(calls)) return [];
        return File.ReadAllText(calls).Split("---\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(call => call.TrimEnd('\n').Split('\n')).ToList();
    }

    [Fact]
    public void Development_installs_dependencies_then_the_repository_modules_with_their_tests()
    {
        var pipeline = OdooDefaultPipeline.Build("development", Modules, hasRequirements: true, odooBin, "build_42");

        Assert.Equal(TimeSpan.FromHours(3), pipeline.Timeout);
        Assert.Equal(["install requirements", "odoo"], pipeline.Steps.Select(s => s.Name));
        Assert.Equal("python3 -m pip install -r requirements.txt", pipeline.Steps[0].Run);
        Assert.All(pipeline.Steps, s => Assert.Equal((false, false, null), (s.Skipped, s.ContinueOnError, s.Timeout)));
        var calls = Run(pipeline.Steps[1].Run);
        Assert.Equal(2, calls.Count);
        Assert.Equal(["--database=build_42", "--addons-path=.,addons", "-i", "base,crm,sale,stock", "--stop-after-init"], calls[0]);
        Assert.Equal(["--database=build_42", "--addons-path=.,addons", "-i", "crm_extras,partner_tools,sale_extras",
            "--test-enable", "--stop-after-init", "--log-level=test"], calls[1]);
    }

    [Fact]
    public void Staging_installs_without_tests_and_without_a_requirements_step_when_there_is_no_file()
    {
        var pipeline = OdooDefaultPipeline.Build("staging", Modules, hasRequirements: false, odooBin, "staging_db");

        var step = Assert.Single(pipeline.Steps);
        Assert.Equal("odoo", step.Name);
        Assert.Equal([["--database=staging_db", "--addons-path=.,addons", "-i", "crm_extras,partner_tools,sale_extras", "--stop-after-init"]],
            Run(step.Run));
    }

    [Fact]
    public void The_script_reads_as_a_person_would_write_it()
    {
        var step = OdooDefaultPipeline.Build("staging", Modules, false, "/opt/odoo/odoo-bin", "staging db").Steps.Single();
        Assert.Equal("""
            set -e
            trap 'command -v dropdb >/dev/null 2>&1 && dropdb --if-exists '\''staging db'\'' >/dev/null 2>&1 || true' EXIT
            addons_path=.,addons
            if [ -d /opt/odoo/addons ]; then addons_path=/opt/odoo/addons,"$addons_path"; fi
            /opt/odoo/odoo-bin '--database=staging db' --addons-path="$addons_path" -i crm_extras,partner_tools,sale_extras --stop-after-init

            """, step.Run);
    }

    [Fact]
    public void Only_a_production_build_keeps_its_database()
    {
        string Script(string stage) => OdooDefaultPipeline.Build(stage, Modules, false, odooBin, "db").Steps.Single().Run;
        Assert.Contains("dropdb --if-exists db", Script("development"));
        Assert.Contains("dropdb --if-exists db", Script("staging"));
        Assert.DoesNotContain("dropdb", Script("production"));
    }

    [Fact]
    public void Production_installs_new_modules_and_updates_new_and_changed_ones()
    {
        ModuleVersion[] previous = [new("sale_extras", "17.0.1.0.1"), new("crm_extras", "17.0.1.0.0"), new("partner_tools", null), new("gone", "1.0")];
        var pipeline = OdooDefaultPipeline.Build("production", [.. Modules, Module("addons/new_one")], false, odooBin, "prod", previous);

        Assert.Equal([["--database=prod", "--addons-path=.,addons", "-i", "new_one", "-u", "new_one,sale_extras", "--stop-after-init"]],
            Run(pipeline.Steps.Single().Run));
    }

    [Fact]
    public void Production_updates_only_changed_modules_when_none_is_new()
    {
        ModuleVersion[] previous = [new("sale_extras", "17.0.1.0.2"), new("crm_extras", "17.0.0.9.0"), new("partner_tools", null)];
        var pipeline = OdooDefaultPipeline.Build("production", Modules, false, odooBin, "prod", previous);

        Assert.Equal([["--database=prod", "--addons-path=.,addons", "-u", "crm_extras", "--stop-after-init"]], Run(pipeline.Steps.Single().Run));
    }

    [Fact]
    public void The_first_production_build_installs_and_updates_every_module()
    {
        var pipeline = OdooDefaultPipeline.Build("production", Modules, false, odooBin, "prod", previousProduction: null);
        const string all = "crm_extras,partner_tools,sale_extras";
        Assert.Equal([["--database=prod", "--addons-path=.,addons", "-i", all, "-u", all, "--stop-after-init"]], Run(pipeline.Steps.Single().Run));
    }

    [Fact]
    public void Production_with_nothing_changed_skips_the_odoo_step_saying_so()
    {
        ModuleVersion[] previous = [new("sale_extras", "17.0.1.0.2"), new("crm_extras", "17.0.1.0.0"), new("partner_tools", null)];
        var pipeline = OdooDefaultPipeline.Build("production", Modules, true, odooBin, "prod", previous);

        Assert.Equal(["install requirements", "odoo"], pipeline.Steps.Select(s => s.Name));
        Assert.True(pipeline.Steps[1].Skipped);
        Assert.Contains("nothing to update", pipeline.Steps[1].SkipReason);
    }

    [Theory]
    [InlineData("development", "test")]
    [InlineData("staging", "install")]
    [InlineData("production", "update")]
    public void Without_odoo_bin_the_odoo_step_is_there_but_skipped_with_the_reason(string stage, string what)
    {
        foreach (var missing in new[] { null, "", "  " })
        {
            var pipeline = OdooDefaultPipeline.Build(stage, Modules, true, missing, "db");
            Assert.Equal(["install requirements", "odoo"], pipeline.Steps.Select(s => s.Name));
            Assert.False(pipeline.Steps[0].Skipped);
            Assert.Equal($"Odoo is not installed on this runner (set the runner's odoo-bin path): skipping the Odoo {what} step",
                pipeline.Steps[1].SkipReason);
        }
    }

    [Fact]
    public void Without_installable_modules_the_odoo_step_is_skipped()
    {
        var pipeline = OdooDefaultPipeline.Build("development", [Module("addons/old_module", installable: false)], false, odooBin, "db");
        Assert.Contains("No installable Odoo module", Assert.Single(pipeline.Steps).SkipReason);
    }

    [Fact]
    public void Arguments_are_quoted_so_bash_passes_them_unchanged()
    {
        Directory.CreateDirectory(Path.Combine(dir.FullName, "repo", "odd path"));
        const string database = "it's \"db\" $(touch pwned) `touch pwned2` ;&|*";
        var pipeline = OdooDefaultPipeline.Build("staging", [Module("odd path/m1")], false, odooBin, database);

        Assert.Equal([["--database=" + database, "--addons-path=odd path", "-i", "m1", "--stop-after-init"]], Run(pipeline.Steps[0].Run));
        Assert.Empty(Directory.GetFiles(Path.Combine(dir.FullName, "repo")));
    }

    [Fact]
    public void The_addons_folder_of_an_odoo_checkout_goes_first_in_the_addons_path_when_it_exists()
    {
        Directory.CreateDirectory(Path.Combine(Path.GetDirectoryName(odooBin)!, "addons"));
        var pipeline = OdooDefaultPipeline.Build("staging", Modules, false, odooBin, "db");
        var odooAddons = Path.Combine(Path.GetDirectoryName(odooBin)!, "addons");
        Assert.Equal($"--addons-path={odooAddons},.,addons", Run(pipeline.Steps[0].Run).Single()[1]);
    }

    [Fact]
    public void Refuses_an_unknown_stage_or_an_empty_database_name()
    {
        Assert.Throws<ArgumentException>(() => OdooDefaultPipeline.Build("prod", Modules, false, odooBin, "db"));
        Assert.Throws<ArgumentException>(() => OdooDefaultPipeline.Build("staging", Modules, false, odooBin, " "));
    }

    [Theory]
    [InlineData("plain-word_1.0/a=b,c:d@e%f+g", "plain-word_1.0/a=b,c:d@e%f+g")]
    [InlineData("", "''")]
    [InlineData("two words", "'two words'")]
    [InlineData("it's", "'it'\\''s'")]
    [InlineData("$HOME", "'$HOME'")]
    public void Bash_quoting(string word, string quoted) => Assert.Equal(quoted, BashQuoting.Quote(word));
}
