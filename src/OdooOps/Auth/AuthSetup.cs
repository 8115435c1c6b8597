using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using OdooOps.Database;
using OdooOps.Server;

namespace OdooOps.Auth;

/// <summary>
/// Who is calling: a session cookie (console and API) or a personal access token (API and functions only),
/// chosen per request by the path and the Authorization header. Cookies: HttpOnly, SameSite=Lax, Secure on HTTPS (and
/// always when the public URL is https), sliding 8 h, each naming a server-side session checked on every request
/// (<see cref="Sessions"/>).
/// </summary>
internal static class AuthSetup
{
    public const string Scheme = "OdooOps";
    public const string CookieName = "odooops_session";

    public static IServiceCollection AddOpsAuth(this IServiceCollection services)
    {
        services.AddOpsDataProtection();

        services.AddAuthentication(Scheme)
            // Tokens are for the API only: console pages (and their forms) know sessions alone, so a read-scoped
            // token can never drive a console form to do what its scope forbids.
            .AddPolicyScheme(Scheme, "Cookie or token", o => o.ForwardDefaultSelector = ctx =>
                ApiProblems.IsApiRequest(ctx) && ctx.Request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
                    ? PersonalTokenHandler.SchemeName
                    : CookieAuthenticationDefaults.AuthenticationScheme)
            .AddCookie(o =>
            {
                o.Cookie.Name = CookieName;
                o.Cookie.HttpOnly = true;
                o.Cookie.SameSite = SameSiteMode.Lax;
                o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                o.ExpireTimeSpan = Sessions.Idle;
                o.SlidingExpiration = true;
                o.LoginPath = "/login";
                o.LogoutPath = "/logout";
                o.AccessDeniedPath = "/login";
                o.ReturnUrlParameter = "returnUrl";
                o.Events.OnRedirectToLogin = ctx => ApiProblems.IsApiRequest(ctx.HttpContext)
                    ? ApiProblems.WriteAsync(ctx.HttpContext, 401, "Unauthorized", "Sign in, or send a personal access token as 'Authorization: Bearer oo_pat_…'.")
                    : Redirect(ctx);
                o.Events.OnRedirectToAccessDenied = ctx => ApiProblems.IsApiRequest(ctx.HttpContext)
                    ? ApiProblems.WriteAsync(ctx.HttpContext, 403, "Forbidden", "Your role does not allow this.")
                    : Redirect(ctx);
                o.Events.OnValidatePrincipal = Sessions.ValidateAsync;
            })
            .AddScheme<AuthenticationSchemeOptions, PersonalTokenHandler>(PersonalTokenHandler.SchemeName, null);

        services.AddAuthorization(AccessPolicies.Configure);
        services.AddSingleton<IAuthorizationHandler, WriteScopeHandler>();
        services.AddScoped<IAuthorizationHandler, RoleHandler>();
        services.AddSingleton<Microsoft.AspNetCore.Authorization.IAuthorizationMiddlewareResultHandler, ProblemAuthorizationResultHandler>();
        services.AddSingleton<SignInService>();
        services.AddSingleton(TimeProvider.System);
        return services;
    }

    static Task Redirect(RedirectContext<CookieAuthenticationOptions> ctx)
    {
        ctx.Response.Redirect(ctx.RedirectUri);
        return Task.CompletedTask;
    }
}
