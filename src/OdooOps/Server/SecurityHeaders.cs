using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Net.Http.Headers;

namespace OdooOps.Server;

/// <summary>
/// What every answer tells the browser, pages and API alike: a content security policy (same-origin scripts and
/// styles only, never framed), no MIME sniffing, no referrer outside the site, HSTS on https, and no-store unless
/// the answer is a static asset, so a page or API answer that shows a new token once never lands in a cache.
/// Proxies: forwarded headers are believed from <see cref="WebSettings.TrustedProxies"/> only.
/// </summary>
internal static class SecurityHeaders
{
    public const string ContentSecurityPolicy =
        "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

    /// <summary>The API reference (Scalar) starts itself with an inline script and styles; it shows our own OpenAPI document only.</summary>
    public const string DocsContentSecurityPolicy =
        "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
        "font-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

    public const string DocsPath = "/docs/api";
    public const string Hsts = "max-age=31536000";

    /// <summary>X-Forwarded-For and -Proto from the configured proxies only (none by default), every trusted hop unwound,
    /// so the sign-in throttle, the audit and the request log see the client's address.</summary>
    public static IApplicationBuilder UseTrustedProxyHeaders(this IApplicationBuilder app, WebSettings settings)
    {
        if (settings.TrustedProxies.Count == 0) return app; // nobody is trusted: the headers mean nothing
        var options = new ForwardedHeadersOptions
        {
            ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto,
            ForwardLimit = null,
        };
        options.KnownProxies.Clear();
        options.KnownIPNetworks.Clear();
        foreach (var network in settings.TrustedProxies) options.KnownIPNetworks.Add(network);
        return app.UseForwardedHeaders(options);
    }

    /// <summary>Secure on every cookie (session, antiforgery, org choice) when the public URL is https, else when the request is.</summary>
    public static IApplicationBuilder UseOpsCookiePolicy(this IApplicationBuilder app, WebSettings settings) =>
        app.UseCookiePolicy(new CookiePolicyOptions
        {
            Secure = settings.PublicHttps ? CookieSecurePolicy.Always : CookieSecurePolicy.SameAsRequest,
            HttpOnly = Microsoft.AspNetCore.CookiePolicy.HttpOnlyPolicy.None, // each cookie says; the session's is HttpOnly
            MinimumSameSitePolicy = Microsoft.AspNetCore.Http.SameSiteMode.Lax,
        });

    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app, WebSettings settings) =>
        app.Use((context, next) =>
        {
            context.Response.OnStarting(() =>
            {
                var headers = context.Response.Headers;
                headers.ContentSecurityPolicy = context.Request.Path.StartsWithSegments(DocsPath) ? DocsContentSecurityPolicy : ContentSecurityPolicy;
                headers.XContentTypeOptions = "nosniff";
                headers.XFrameOptions = "DENY";
                headers["Referrer-Policy"] = "same-origin";
                if (settings.PublicHttps || context.Request.IsHttps) headers.StrictTransportSecurity = Hsts;
                if (!headers.ContainsKey(HeaderNames.CacheControl)) headers.CacheControl = "no-store";
                return Task.CompletedTask;
            });
            return next(context);
        });

    /// <summary>Stylesheets and scripts may be cached, and revalidated (ETag) each time.</summary>
    public static StaticFileOptions StaticFiles => new()
    {
        OnPrepareResponse = ctx => ctx.Context.Response.Headers.CacheControl = "no-cache",
    };
}
