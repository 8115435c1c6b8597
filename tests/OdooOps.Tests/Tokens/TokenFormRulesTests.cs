using OdooOps.Tokens;
using OdooOps.Tokens.Pages;

namespace OdooOps.Tests.Tokens;

/// <summary>The tokens page's pure rules: how a token's state and expiry read, and that the form accepts what the API accepts.</summary>
public sealed class TokenFormRulesTests
{
    static readonly DateTime Now = new(2026, 3, 14, 12, 0, 0, DateTimeKind.Utc);

    static TokenInfo Token(DateTime? expires = null, DateTime? revoked = null) =>
        new(Guid.NewGuid(), "t", "oo_pat_AbCde", "read", Now.AddDays(-1), expires, null, revoked);

    [Fact]
    public void Status_is_revoked_before_expired_before_active()
    {
        Assert.Equal("active", TokenDisplay.Status(Token(), Now));
        Assert.Equal("active", TokenDisplay.Status(Token(Now.AddSeconds(1)), Now));
        Assert.Equal("expired", TokenDisplay.Status(Token(Now), Now));
        Assert.Equal("revoked", TokenDisplay.Status(Token(Now.AddDays(-2), revoked: Now.AddDays(-3)), Now));
        Assert.Equal("revoked", TokenDisplay.Status(Token(Now.AddDays(5), revoked: Now), Now));
    }

    [Theory]
    [InlineData(null, "never")]
    [InlineData(20 * 60, "in 20 min")]
    [InlineData(5 * 3600, "in 5 h")]
    [InlineData(30 * 86400 - 10, "in 30 days")]
    [InlineData(59 * 86400, "in 59 days")]
    [InlineData(90 * 86400, "12 Jun")]
    [InlineData(365 * 86400, "14 Mar 2027")]
    [InlineData(-3 * 86400, "3 days ago")]
    public void Expiry_reads_as_time_left_then_as_a_date(int? secondsFromNow, string expected) =>
        Assert.Equal(expected, TokenDisplay.Expires(secondsFromNow is { } s ? Now.AddSeconds(s) : null, Now));

    [Fact]
    public void A_listed_prefix_never_looks_like_a_whole_token() => Assert.Equal("oo_pat_AbCde…", TokenDisplay.Preview("oo_pat_AbCde"));

    [Theory]
    [InlineData("laptop", "read", "30")]
    [InlineData("ci", "write", "never")]
    [InlineData("", "read", "30")]
    [InlineData("   ", "write", "7")]
    [InlineData(null, "read", "7")]
    [InlineData("laptop", "admin", "7")]
    [InlineData("laptop", "", "7")]
    [InlineData("laptop", null, "365")]
    [InlineData("x", "READ", "90")]
    public void The_form_accepts_exactly_what_the_api_accepts(string? name, string? scope, string expiry)
    {
        var form = new NewTokenInput { Name = name, Scope = scope, Expiry = expiry };
        var api = TokensApi.Read(new TokensApi.CreateToken(name, scope, form.ExpiresInDays)).Errors;
        Assert.Equal(api.IsValid, form.Validate().Count == 0);
    }

    [Theory]
    [InlineData(100, true)]
    [InlineData(101, false)]
    public void Names_up_to_100_characters_are_accepted_by_both(int length, bool valid)
    {
        var name = new string('n', length);
        Assert.Equal(valid, new NewTokenInput { Name = name }.Validate().Count == 0);
        Assert.Equal(valid, TokensApi.Read(new TokensApi.CreateToken(name, "read", 30)).Errors.IsValid);
    }

    [Theory]
    [InlineData("7", 7)]
    [InlineData("365", 365)]
    [InlineData("never", null)]
    public void Offered_expiries_are_valid_lifetimes(string expiry, int? days)
    {
        var form = new NewTokenInput { Name = "t", Expiry = expiry };
        Assert.Empty(form.Validate());
        Assert.Equal(days, form.ExpiresInDays);
    }

    [Theory]
    [InlineData("12")]
    [InlineData("0")]
    [InlineData("-7")]
    [InlineData("")]
    [InlineData(null)]
    [InlineData("Never")]
    public void Other_expiries_are_refused_on_the_expiry_field(string? expiry) =>
        Assert.Equal(new[] { NewTokenInput.ExpiryField }, new NewTokenInput { Name = "t", Expiry = expiry }.Validate().Keys);

    [Fact]
    public void The_defaults_are_read_scope_and_30_days()
    {
        var form = new NewTokenInput();
        Assert.Equal(("read", 30), (form.Scope, form.ExpiresInDays));
    }
}
