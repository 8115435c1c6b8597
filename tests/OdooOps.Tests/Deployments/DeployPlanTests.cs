using OdooOps.Deployments;
using OdooOps.Runners.Agent.Pipeline;

namespace OdooOps.Tests.Deployments;

/// <summary>
/// The deploy plan's rule (Odoo.sh's): a module new since the last successful build is installed, one whose manifest
/// version changed is updated, the rest are left alone; a changed requirements.txt is reported. The runner's default
/// production pipeline installs and updates exactly what the plan says, so the dry run cannot disagree with the update.
/// </summary>
public sealed class DeployPlanTests
{
    static OdooModule Module(string name, string? version, bool installable = true) => new(name, $"addons/{name}", null, version, ["base"], installable);

    static readonly OdooModule[] Checkout =
    [
        Module("sale_extra", "1.1"), Module("stock_extra", "1.0"), Module("brand_new", "0.1"), Module("no_version", null),
        Module("old_style", "2.0", installable: false),
    ];

    static readonly ModuleVersion[] Deployed = [new("sale_extra", "1.0"), new("stock_extra", "1.0"), new("no_version", null), new("gone", "3.0")];

    [Fact]
    public void New_modules_are_installed_changed_versions_updated_and_the_rest_left_alone()
    {
        var plan = DeployPlan.Compute(Checkout, Deployed, "aaa", "aaa");
        Assert.Equal([new DeployPlan.Change("brand_new", null, "0.1", "new")], plan.Install);
        Assert.Equal([new DeployPlan.Change("sale_extra", "1.0", "1.1", "version changed 1.0 → 1.1")], plan.Update);
        Assert.Equal((2, false, false, true), (plan.Unchanged, plan.RequirementsChanged, plan.FirstDeploy, plan.ChangesAnything));
        Assert.Equal(
        [
            "Deploy plan: install 1, update 1, unchanged 2.",
            "  install brand_new 0.1: new",
            "  update  sale_extra: version changed 1.0 → 1.1",
        ], plan.Describe());
    }

    [Fact]
    public void A_changed_requirements_file_is_a_reason_on_its_own()
    {
        ModuleVersion[] same = [new("sale_extra", "1.1"), new("stock_extra", "1.0"), new("brand_new", "0.1"), new("no_version", null)];
        Assert.False(DeployPlan.Compute(Checkout, same, "aaa", "aaa").ChangesAnything);
        var plan = DeployPlan.Compute(Checkout, same, "bbb", "aaa");
        Assert.True(plan.RequirementsChanged);
        Assert.Equal("  requirements.txt changed: its packages are installed again", plan.Describe().Last());
        Assert.True(DeployPlan.Compute(Checkout, same, null, "aaa").RequirementsChanged); // removed
        Assert.True(DeployPlan.Compute(Checkout, same, "aaa", null).RequirementsChanged); // added
        Assert.Equal("Deploy plan: no module is new or has a new version, requirements.txt unchanged: nothing to update.",
            Assert.Single(DeployPlan.Compute(Checkout, same).Describe()));
    }

    [Fact]
    public void With_nothing_deployed_every_installable_module_is_new()
    {
        var plan = DeployPlan.Compute(Checkout, null, "aaa");
        Assert.Equal(["brand_new", "no_version", "sale_extra", "stock_extra"], plan.Install.Select(c => c.Module));
        Assert.Equal((true, false), (plan.FirstDeploy, plan.RequirementsChanged));
        Assert.Contains("nothing deployed before", plan.Describe().First());
    }

    [Fact]
    public void The_production_pipeline_installs_and_updates_exactly_what_the_plan_says()
    {
        var script = OdooDefaultPipeline.Build("production", Checkout, false, "/opt/odoo/odoo-bin", "prod", Deployed).Steps.Single().Run;
        var plan = DeployPlan.Compute(Checkout, Deployed);
        var call = script.Split('\n').Single(l => l.Contains("--stop-after-init")).Split(' ');
        Assert.Equal(string.Join(',', plan.Install.Select(c => c.Module)), call[Array.IndexOf(call, "-i") + 1]);
        Assert.Equal(string.Join(',', plan.Install.Concat(plan.Update).Select(c => c.Module).Order(StringComparer.Ordinal)),
            call[Array.IndexOf(call, "-u") + 1]);
    }

    [Fact]
    public void The_requirements_digest_is_the_files_sha256_and_a_link_is_not_followed()
    {
        var dir = Directory.CreateTempSubdirectory("odooops-reqs-").FullName;
        try
        {
            Assert.Null(DeployPlan.RequirementsSha256(dir));
            File.WriteAllText(Path.Combine(dir, "requirements.txt"), "requests==2.32.3\n");
            Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData("requests==2.32.3\n"u8)), DeployPlan.RequirementsSha256(dir));
            File.Delete(Path.Combine(dir, "requirements.txt"));
            File.CreateSymbolicLink(Path.Combine(dir, "requirements.txt"), "/etc/hostname");
            Assert.Null(DeployPlan.RequirementsSha256(dir));
        }
        finally { Directory.Delete(dir, true); }
    }
}
