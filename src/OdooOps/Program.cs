using System.CommandLine;
using OdooOps.Cli.Admin;
using OdooOps.Cli.Client;
using OdooOps.Cli.Doctor;
using OdooOps.Cli.Host;

var root = new RootCommand("OdooOps — the self-hosted control plane for Odoo hosting.")
{
    ServeCommand.Create(),
    DbCommand.Create(),
    SeedCommand.Create(),
    OrgCommand.Create(),
    OrgsCommand.Create(),
    UserCommand.Create(),
    TokenCommand.Create(),
    LoginCommand.Login(),
    LoginCommand.Logout(),
    ProjectsCommand.Create(),
    BranchesCommand.Create(),
    DomainsCommand.Create(),
    BuildsCommand.Create(),
    InstancesCommand.Create(),
    EnvCommand.Create(),
    DeploymentsCommand.Create(),
    BackupsCommand.Create(),
    DoctorCommand.Create(),
    SecretsCommand.Create(),
    RunnerAgentCommand.Create(),
    RunnerAdminCommand.Create(),
    InvitationsCommand.Create(),
    AdvisoriesCommand.Create(),
    AuditCommand.Create(),
    MembersCommand.Create(),
    MetricsCommand.Create(),
    SystemCommand.Create(),
    IngestTokensCommand.Create(),
    NotificationsCommand.Create(),
};
var parse = root.Parse(args);
// Usage mistakes follow the CLI's error contract too: one "error: …" line on stderr and exit code 1.
// (A bare `odooops` still gets the help text.)
if (parse.Errors.Count > 0 && args.Length > 0)
{
    Console.Error.WriteLine($"error: {string.Join(" ", parse.Errors.Select(e => e.Message))} (see --help)");
    return 1;
}
// serve owns SIGINT/SIGTERM through the ASP.NET Core host so that it can stop its database cleanly.
return await parse.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });

/// <summary>Visible to the tests' WebApplicationFactory.</summary>
public partial class Program;
