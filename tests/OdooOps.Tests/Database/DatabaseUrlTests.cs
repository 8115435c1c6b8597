using OdooOps.Database;

namespace OdooOps.Tests.Database;

public sealed class DatabaseUrlTests
{
    [Fact]
    public void Parses_a_supabase_style_url()
    {
        var cs = DatabaseUrl.Parse("postgresql://postgres.abc:p%40ss%3Aword@db.example.co:6543/postgres?sslmode=require");
        Assert.Equal("db.example.co", cs.Host);
        Assert.Equal(6543, cs.Port);
        Assert.Equal("postgres.abc", cs.Username);
        Assert.Equal("p@ss:word", cs.Password);
        Assert.Equal("postgres", cs.Database);
        Assert.Equal(Npgsql.SslMode.Require, cs.SslMode);
    }

    [Fact]
    public void Defaults_port_and_database()
    {
        var cs = DatabaseUrl.Parse("postgres://u@localhost");
        Assert.Equal(5432, cs.Port);
        Assert.Equal("postgres", cs.Database);
        Assert.Null(cs.Password);
    }

    [Fact]
    public void Accepts_an_npgsql_connection_string()
    {
        var cs = DatabaseUrl.Parse("Host=127.0.0.1;Port=5433;Username=ops;Password=x;Database=odooops");
        Assert.Equal(5433, cs.Port);
        Assert.Equal("odooops", cs.Database);
    }

    [Theory]
    [InlineData("")]
    [InlineData("postgresql://")]
    [InlineData("postgresql://h/db?sslmode=sometimes")]
    [InlineData("Port=5432")]
    [InlineData("not a url")]
    public void Rejects_garbage_with_a_clear_message(string value)
    {
        var e = Assert.Throws<FormatException>(() => DatabaseUrl.Parse(value));
        Assert.Contains("database", e.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Describe_never_shows_the_password()
    {
        var cs = DatabaseUrl.Parse("postgresql://u:secret@h:5432/d");
        Assert.DoesNotContain("secret", DatabaseUrl.Describe(cs));
    }
}
