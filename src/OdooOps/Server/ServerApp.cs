using System.Text.Json;
using OdooOps.Advisories;
using OdooOps.Audit;
using OdooOps.Auth;
using OdooOps.Backups;
using OdooOps.Backups.Pages;
using OdooOps.Backups.Storage;
using OdooOps.Branches;
using OdooOps.Builds;
using OdooOps.Database;
using OdooOps.Deployments;
using OdooOps.EnvVars;
using OdooOps.Health;
using OdooOps.Instances;
using OdooOps.Instances.Domains;
using OdooOps.Instances.Proxy;
using OdooOps.Members;
using OdooOps.Metrics;
using OdooOps.Notifications;
using OdooOps.Observability;
using OdooOps.Orgs;
using OdooOps.Projects;
using OdooOps.Runners.Dispatch;
using OdooOps.Runners.Admin;
using OdooOps.Runners.Agent;
using OdooOps.Scheduler;
using OdooOps.Secrets;
using OdooOps.SystemStatus;
using OdooOps.Tokens;
using OdooOps.Ui;
using OdooOps.Webhooks;
using Scalar.AspNetCore;

namespace OdooOps.Server;

/// <summary>The web host of `odooops serve`: one place that wires every feature's services and endpoints.</summary>
public static class ServerApp
{
    public const string DefaultUrls = "http://127.0.0.1:8080";

    /// <summary>
    /// Every scheduled job `serve` runs, each defined by its feature. To add one, add its <see cref="ScheduledJob"/> here;
    /// its cron is then configurable as OPS_JOB_&lt;name&gt; like the others.
    /// </summary>
    public static readonly IReadOnlyList<ScheduledJob> Jobs =
    [
        MetricRollupJob.Job,
        MetricJobs.PartitionMaintenance,
        MetricJobs.Retention,
        BuildLogRetentionJob.Job,
        InstanceLogRetentionJob.Job,
        AdvisoryScanJob.Job,
        LeaseRescueJob.Job,
        WebhookDeliveryJob.Job,
        BackupScheduleJob.Job,
        BackupRetentionJob.Job,
        NotificationRetentionJob.Job,
    ];

    /// <param name="configure">Tests swap the server (TestServer) or add settings here.</param>
    public static WebApplication Build(string urls, IConfiguration config, OpsDatabase database, OpsSecrets secrets, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ContentRootPath = AppContext.BaseDirectory,
            WebRootPath = Path.Combine(AppContext.BaseDirectory, "wwwroot"),
        });
        builder.Configuration.AddConfiguration(config);
        builder.WebHost.UseUrls(urls);
        // https:// addresses work with a certificate from configuration (Kestrel:Certificates:Default:Path/Password).
        builder.WebHost.UseKestrelHttpsConfiguration();
        var httpLimits = HttpLimits.From(builder.Configuration);
        builder.WebHost.ConfigureKestrel(o => httpLimits.ApplyTo(o.Limits));
        builder.WebHost.UseStaticWebAssets();
        builder.Services.AddSingleton(database);
        builder.Services.AddSingleton(secrets);
        builder.Services.AddOpsObservability();
        builder.Services.AddProblemDetails();
        builder.Services.AddExceptionHandler<DatabaseErrorHandler>();
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower);
        builder.Services.AddOpsAuth();
        builder.Services.AddAntiforgery();
        builder.Services.AddRazorComponents();
        builder.Services.AddHttpContextAccessor();
        builder.Services.AddScoped<ConsoleContext>();
        builder.Services.AddSingleton<SystemStatusReader>();
        builder.Services.AddOpsScheduler(builder.Configuration, Jobs);
        // Read once (a bad value stops `serve` with one line, before anything listens), not per runner request.
        builder.Services.AddSingleton(DispatchSettings.From(builder.Configuration));
        builder.Services.AddSingleton<PgNotifications>();
        builder.Services.AddSingleton<Backups.Tasks.RunnerTaskLogNotifications>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<PgNotifications>());
        builder.Services.AddBuilds(builder.Configuration);
        builder.Services.AddInstances(builder.Configuration);
        builder.Services.AddBackupStorage(builder.Configuration);
        builder.Services.AddProjects();
        builder.Services.AddEnvVars();
        builder.Services.AddDeployments();
        builder.Services.AddAdvisories(config);
        builder.Services.AddNotifications(builder.Configuration);
        builder.Services.AddCascadingAuthenticationState();
        builder.Services.AddOpenApi(o => o.AddDocumentTransformer((doc, _, _) =>
        {
            doc.Info.Title = "OdooOps API";
            doc.Info.Description = "Projects, branches, builds, instances, members and tokens. Authenticate with a session cookie or 'Authorization: Bearer oo_pat_…'. Errors are RFC 9457 ProblemDetails.";
            return Task.CompletedTask;
        }));
        configure?.Invoke(builder);
        // After configure: tests set OPS_PUBLIC_URL / OPS_TRUSTED_PROXIES there.
        var web = WebSettings.From(builder.Configuration);
        builder.Services.AddSingleton(web);
        builder.Services.AddInstanceProxy(builder.Configuration, web);
        builder.Services.AddInstanceDomains(builder.Configuration);
        if (EmbeddedRunner.Capacity(builder.Configuration) > 0) builder.Services.AddHostedService<EmbeddedRunner>();

        var app = builder.Build();
        app.UseTrustedProxyHeaders(web); // before anything reads the client's address or scheme
        app.UseOpsObservability(); // then: times every request and sees its final status
        app.UseInstanceProxy(); // then: an instance's name is the instance's, whatever the path (nothing below applies)
        app.UseSecurityHeaders(web);
        app.UseExceptionHandler();
        // Bare API errors (405, 415 …) become ProblemDetails; console pages render their own 404s.
        app.UseWhen(ApiProblems.IsApiRequest, api => api.UseStatusCodePages());
        app.UseStaticFiles(SecurityHeaders.StaticFiles);
        app.UseOpsCookiePolicy(web);
        app.UseAuthentication();
        app.UseAnonymousBodyLimit(); // before anything reads a body
        app.UseCookieApiForgeryCheck(web);
        app.UseAuthorization();
        app.UseNulTextRefusal(); // after sign-in and role checks (strangers get their 401 first), before antiforgery reads forms
        app.UseAntiforgery();

        app.MapHealthApi();
        app.MapMetrics();
        app.MapOpenApi();
        app.MapScalarApiReference("/docs/api", o => o.WithTitle("OdooOps API"));

        // Every endpoint that takes a body is mapped in this group, so its JSON body is checked for NUL text (NulText).
        var root = app.MapGroup("").RefuseNulText();
        // Every API answer may be one of these errors (auth, role, tenant); endpoints declare the rest in their Results<…>.
        var api = root.MapGroup("/api/ops").RequireAuthorization(AccessPolicies.SignedIn)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);
        api.MapAuthApi();
        api.MapOrgsApi();
        api.MapProjectsApi();
        api.MapRepoCredentialsApi();
        api.MapBuildNetworkApi();
        api.MapInstanceSettingsApi();
        api.MapEnvVarsApi();
        api.MapBranchesApi();
        api.MapBranchInstanceApi();
        api.MapBuildsApi();
        api.MapInstancesApi();
        api.MapDeploymentsApi();
        api.MapMembersApi();
        api.MapInvitationsApi();
        api.MapTokensApi();
        api.MapAuditApi();
        api.MapIngestTokensApi();
        api.MapMetricSeriesApi();
        root.MapMetricsIngestApi();
        api.MapJobsApi();
        root.MapBuildTriggerApi(api);
        api.MapAdvisoriesApi();
        root.MapAdvisoryScanApi();
        root.MapWebhooksApi(api);
        root.MapRunnerDispatchApi();
        root.MapBackupArtifactApi();
        root.MapBackupDownloadApi();
        api.MapRunnerLabelsApi();
        api.MapRunnerAdminApi(app.Configuration);
        api.MapDomainsApi();
        api.MapBackupsApi();
        api.MapProjectOverviewApi();
        api.MapSystemStatusApi();
        api.MapNotificationsApi();
        app.MapInstanceTlsAsk();

        app.MapBackupImportForm(); // the console's one form that is not a Blazor form: its zip streams
        app.MapUi();
        return app;
    }
}
