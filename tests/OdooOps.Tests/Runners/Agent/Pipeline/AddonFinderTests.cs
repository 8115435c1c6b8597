using OdooOps.Runners.Agent.Pipeline;

namespace OdooOps.Tests.Runners.Agent.Pipeline;

/// <summary>Addon discovery on real folder trees in a temporary directory.</summary>
public sealed class AddonFinderTests : IDisposable
{
    readonly DirectoryInfo repo = Directory.CreateTempSubdirectory("odooops-addons-");

    public void Dispose() => repo.Delete(true);

    string Write(string relativePath, string text = "")
    {
        var path = Path.Combine(repo.FullName, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }

    void Addon(string folder, string manifest = "{'name': 'X', 'version': '1.0'}", string file = "__manifest__.py") =>
        Write($"{folder}/{file}", manifest);

    [Fact]
    public void Finds_addons_at_any_depth_sorted_by_name_with_their_manifest_fields()
    {
        Addon("sale_extras", OdooManifestTests.Sample);
        Addon("addons/b_module", "{'name': 'B', 'depends': ['base'], 'installable': False}");
        Addon("vendor/oca/a_module", "{'name': 'A', 'version': '16.0.1.0.0'}", "__openerp__.py");
        Write("addons/b_module/models/__init__.py");
        Write("README.md", "# repo");

        var scan = AddonFinder.Find(repo.FullName);

        Assert.Empty(scan.Problems);
        Assert.Equal(["a_module", "b_module", "sale_extras"], scan.Modules.Select(m => m.Name));
        var a = scan.Modules[0];
        Assert.Equal(("vendor/oca/a_module", "A", "16.0.1.0.0", true), (a.Path, a.Title, a.Version, a.Installable));
        var b = scan.Modules[1];
        Assert.Equal(("addons/b_module", "B", null, false), (b.Path, b.Title, b.Version, b.Installable));
        Assert.Equal(["base"], b.Depends);
        var sale = scan.Modules[2];
        Assert.Equal(("sale_extras", "Sale Extras", "17.0.1.0.2"), (sale.Path, sale.Title, sale.Version));
        Assert.Equal(["sale", "stock"], sale.Depends);
    }

    [Fact]
    public void Skips_hidden_folders_node_modules_pycache_and_links()
    {
        Addon(".git/hooks_addon");
        Addon(".venv/lib/site_addon");
        Addon("web/node_modules/npm_addon");
        Addon("x/__pycache__/cached_addon");
        Addon("real_addon");
        Directory.CreateDirectory(Path.Combine(repo.FullName, "setup/real_addon/odoo/addons"));
        Directory.CreateSymbolicLink(Path.Combine(repo.FullName, "setup/real_addon/odoo/addons/real_addon"), Path.Combine(repo.FullName, "real_addon"));
        Directory.CreateSymbolicLink(Path.Combine(repo.FullName, "loop"), repo.FullName);

        var scan = AddonFinder.Find(repo.FullName);

        Assert.Equal(["real_addon"], scan.Modules.Select(m => m.Name));
        Assert.Empty(scan.Problems);
    }

    [Fact]
    public void Does_not_look_inside_an_addon_and_prefers_manifest_over_openerp()
    {
        Addon("outer", "{'name': 'Outer'}");
        Addon("outer/tests/inner", "{'name': 'Inner'}");
        Addon("both", "{'name': 'New'}");
        Addon("both", "{'name': 'Old'}", "__openerp__.py");

        var scan = AddonFinder.Find(repo.FullName);

        Assert.Equal([("both", "New"), ("outer", "Outer")], scan.Modules.Select(m => (m.Name, m.Title)));
    }

    [Fact]
    public void Stops_six_folders_down()
    {
        Addon("1/2/3/4/5/six");
        Addon("1/2/3/4/5/6/seven");
        Assert.Equal(["six"], AddonFinder.Find(repo.FullName).Modules.Select(m => m.Name));
    }

    [Fact]
    public void Reports_broken_addons_without_hiding_the_others()
    {
        Addon("good_one");
        Addon("syntax_error", "{'name': 'x',\n 'depends': ['base'\n");
        Addon("runs_code", "{'name': __import__('os').system('touch pwned')}");
        Addon("wrong_type", "{'depends': 'base'}");
        Addon("bad-name");
        Addon("other/good_one");
        Write("__manifest__.py", "{'name': 'root'}");

        var scan = AddonFinder.Find(repo.FullName);

        Assert.Equal(["good_one"], scan.Modules.Select(m => m.Name));
        Assert.Equal("good_one", scan.Modules[0].Path);
        Assert.Collection(scan.Problems,
            p => Assert.Equal(("__manifest__.py", true), (p.Path, p.Message.Contains("repository root"))),
            p => Assert.Equal(("bad-name", true), (p.Path, p.Message.Contains("not a valid Odoo module name"))),
            p => Assert.Equal(("other/good_one", "another addon named 'good_one' is at good_one: this one is not used"), (p.Path, p.Message)),
            p => Assert.Equal(("runs_code/__manifest__.py", true), (p.Path, p.Message.StartsWith("line 1, column 10: '__import__' is not allowed"))),
            p => Assert.Equal(("syntax_error/__manifest__.py", "line 3, column 1: expected ',' or ']', found end of file"), (p.Path, p.Message)),
            p => Assert.Equal(("wrong_type/__manifest__.py", "'depends' must be a list of module names, not a string"), (p.Path, p.Message)));
        Assert.False(File.Exists(Path.Combine(repo.FullName, "pwned")));
        Assert.Equal("syntax_error/__manifest__.py: line 3, column 1: expected ',' or ']', found end of file", scan.Problems[4].ToString());
    }

    [Fact]
    public void A_symlinked_manifest_is_not_read()
    {
        var outside = Write("elsewhere.txt", "{'name': 'secret'}");
        Directory.CreateDirectory(Path.Combine(repo.FullName, "linked"));
        File.CreateSymbolicLink(Path.Combine(repo.FullName, "linked/__manifest__.py"), outside);

        var scan = AddonFinder.Find(repo.FullName);

        Assert.Empty(scan.Modules);
        Assert.Contains("symbolic link", Assert.Single(scan.Problems).Message);
    }

    [Fact]
    public void An_empty_repository_has_no_modules()
    {
        var scan = AddonFinder.Find(repo.FullName);
        Assert.Empty(scan.Modules);
        Assert.Empty(scan.Problems);
    }
}
