using OdooOps.Runners.Agent.Pipeline;

namespace OdooOps.Tests.Runners.Agent.Pipeline;

/// <summary>Odoo manifests read as data: the fields builds use, and the manifests that must be refused.</summary>
public sealed class OdooManifestTests
{
    public const string Sample = """"
        # -*- coding: utf-8 -*-
        {
            'name': "Sale Extras",
            'version': '17.0.1.0.2',
            'depends': ['sale', "stock"],
            'data': ('views/a.xml',),
            'installable': True,
            'license': 'LGPL-3',
            'summary': """Multi
        line""" 'implicit concat',
            'price': 9.5, 'auto_install': False, 'external_dependencies': {'python': ['requests']},
        }
        """";

    [Fact]
    public void Reads_the_sample_manifest()
    {
        var manifest = OdooManifest.Parse(Sample);
        Assert.Equal("Sale Extras", manifest.Title);
        Assert.Equal("17.0.1.0.2", manifest.Version);
        Assert.Equal(["sale", "stock"], manifest.Depends);
        Assert.True(manifest.Installable);
        Assert.Equal("Multi\nline" + "implicit concat", manifest.Values["summary"]);
        Assert.Equal(new object?[] { "views/a.xml" }, (IEnumerable<object?>)manifest.Values["data"]!);
        Assert.Equal(9.5, manifest.Values["price"]);
        Assert.Equal(false, manifest.Values["auto_install"]);
        var external = (IReadOnlyDictionary<string, object?>)manifest.Values["external_dependencies"]!;
        Assert.Equal(new object?[] { "requests" }, (IEnumerable<object?>)external["python"]!);
    }

    [Fact]
    public void Missing_fields_have_odoo_defaults()
    {
        var manifest = OdooManifest.Parse("{'name': 'Bare'}");
        Assert.Equal(("Bare", null), (manifest.Title, manifest.Version));
        Assert.Empty(manifest.Depends);
        Assert.True(manifest.Installable);
        Assert.False(OdooManifest.Parse("{'installable': False, 'depends': ('base',)}").Installable);
        Assert.Equal(["base"], OdooManifest.Parse("{'installable': None, 'depends': ('base',)}").Depends);
    }

    [Theory]
    [InlineData("['name']", "must be a dict literal")]
    [InlineData("{'name': ['a']}", "'name' must be a string, not a list")]
    [InlineData("{'version': 17.0}", "'version' must be a string, not a float")]
    [InlineData("{'depends': 'sale'}", "'depends' must be a list of module names, not a string")]
    [InlineData("{'depends': ['sale', 3]}", "'depends' must be a list of module names, but holds an int")]
    [InlineData("{'installable': 'yes'}", "'installable' must be True or False, not a string")]
    [InlineData("{\n  'name': 'x',\n  'version': __import__('os').system('touch /tmp/pwned'),\n}", "line 3, column 14: '__import__' is not allowed")]
    [InlineData("{'name': 'x'", "line 1, column 13: expected ',' or '}'")]
    [InlineData("{'name': 'Sale\\x00Extras'}", "'name' must not contain NUL characters")] // the server's text cannot hold it
    [InlineData("{'depends': ['sale', 'st\\0ock']}", "'depends' must not contain NUL characters")]
    public void Refuses_bad_manifests(string source, string expected)
    {
        var error = Assert.Throws<OdooManifestException>(() => OdooManifest.Parse(source));
        Assert.Contains(expected, error.Message);
    }
}
