using OdooOps.Runners.Agent.Sandbox;

namespace OdooOps.Tests.Runners.Agent.Sandbox;

public sealed class SandboxSettingsTests
{
    static SandboxSettings From(params (string Key, string Value)[] values) =>
        SandboxSettings.From(key => values.FirstOrDefault(v => v.Key == key).Value);

    [Fact]
    public void Defaults_sandbox_every_build()
    {
        var settings = From();
        Assert.True(settings.Enabled);
        Assert.Equal((900_000_000, 65_536), (settings.FirstUid, settings.UidCount));
        Assert.Equal((4096L << 20, 1024, 2.0), (settings.MemoryBytes, settings.MaxProcesses, settings.Cpus));
    }

    [Fact]
    public void Settings_are_read()
    {
        var settings = From(("OPS_RUNNER_UNSANDBOXED", "1"), ("OPS_SANDBOX_UIDS", "200000-200009"), ("OPS_SANDBOX_MEMORY_MB", "512"),
            ("OPS_SANDBOX_MAX_PROCESSES", "100"), ("OPS_SANDBOX_CPUS", "0.5"), ("OPS_SANDBOX_RO_PATHS", "/srv/odoo:/opt/py"));
        Assert.False(settings.Enabled);
        Assert.Equal((200_000, 10), (settings.FirstUid, settings.UidCount));
        Assert.Equal((512L << 20, 100, 0.5), (settings.MemoryBytes, settings.MaxProcesses, settings.Cpus));
        Assert.Equal(["/srv/odoo", "/opt/py"], settings.ExtraReadOnlyPaths);
    }

    [Theory]
    [InlineData("OPS_RUNNER_UNSANDBOXED", "yes")]
    [InlineData("OPS_SANDBOX_UIDS", "0-100")] // root's uid and system users: never
    [InlineData("OPS_SANDBOX_UIDS", "300000-200000")]
    [InlineData("OPS_SANDBOX_UIDS", "lots")]
    [InlineData("OPS_SANDBOX_MEMORY_MB", "8")]
    [InlineData("OPS_SANDBOX_MAX_PROCESSES", "-1")]
    [InlineData("OPS_SANDBOX_CPUS", "0")]
    [InlineData("OPS_SANDBOX_RO_PATHS", "relative/path")]
    public void A_bad_value_is_one_line_naming_the_setting(string key, string value)
    {
        var e = Assert.Throws<InvalidOperationException>(() => From((key, value)));
        Assert.StartsWith($"{key}: '{value}'", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Two_leases_never_share_a_uid_and_a_freed_uid_can_be_taken_again()
    {
        var dir = Directory.CreateTempSubdirectory("odooops-uids-").FullName;
        try
        {
            var settings = new SandboxSettings { FirstUid = 500_000, UidCount = 2, LockDirectory = dir };
            var uids = new SandboxUids(settings);
            using var a = uids.Acquire();
            var b = uids.Acquire();
            Assert.NotEqual(a.Uid, b.Uid);
            Assert.Throws<InvalidOperationException>(() => uids.Acquire()); // both in use, even by this process
            b.Dispose();
            using var c = uids.Acquire();
            Assert.Equal(b.Uid, c.Uid);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
