using Microsoft.AspNetCore.Authentication.Cookies;
using OdooOps.Server;

namespace OdooOps.Auth;

/// <summary>
/// Cross-site request forgery on the API. A browser sends the session cookie with any request to this site, including
/// a form or a text/plain fetch another site makes it send (no CORS preflight for those). So an API write that the
/// session cookie authenticates must prove it comes from our own pages: the header <see cref="HeaderName"/> (which no
/// other origin can set without a preflight this server never grants) and an Origin — or, lacking one, a Referer — of
/// this server. Token calls (Authorization: Bearer, the CLI, runners, the functions' own headers) carry no ambient
/// credential and pass unchanged; console forms are guarded by their antiforgery tokens.
/// </summary>
internal static class CookieApiForgery
{
    public const string HeaderName = "X-OdooOps-CSRF";

    public static IApplicationBuilder UseCookieApiForgeryCheck(this IApplicationBuilder app, WebSettings settings) =>
        app.Use(async (context, next) =>
        {
            if (NeedsProof(context) && Refusal(context, settings) is { } reason)
            {
                await ApiProblems.WriteAsync(context, StatusCodes.Status403Forbidden, "Forbidden", reason);
                return;
            }
            await next(context);
        });

    static bool NeedsProof(HttpContext context) =>
        !(HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method) ||
          HttpMethods.IsOptions(context.Request.Method) || HttpMethods.IsTrace(context.Request.Method)) &&
        ApiProblems.IsApiRequest(context) &&
        context.User.Identity is { IsAuthenticated: true, AuthenticationType: CookieAuthenticationDefaults.AuthenticationScheme };

    static string? Refusal(HttpContext context, WebSettings settings)
    {
        const string Advice = " Scripts and tools should send a personal access token (Authorization: Bearer oo_pat_…) instead of a session cookie.";
        if (string.IsNullOrWhiteSpace(context.Request.Headers[HeaderName]))
            return $"A write with a session cookie needs the header '{HeaderName}: 1'." + Advice;
        var origin = context.Request.Headers.Origin.ToString();
        if (origin.Length == 0 && Uri.TryCreate(context.Request.Headers.Referer.ToString(), UriKind.Absolute, out var referer))
            origin = referer.GetLeftPart(UriPartial.Authority);
        return IsOwnOrigin(context.Request, settings, origin)
            ? null
            : "A write with a session cookie must come from this server's own pages (its Origin did not match)." + Advice;
    }

    static bool IsOwnOrigin(HttpRequest request, WebSettings settings, string origin) =>
        origin.Length > 0 &&
        (string.Equals(origin, $"{request.Scheme}://{request.Host}", StringComparison.OrdinalIgnoreCase) ||
         string.Equals(origin, settings.PublicOrigin, StringComparison.OrdinalIgnoreCase));
}
