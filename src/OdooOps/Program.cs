using System.CommandLine;
using OdooOps.Cli;

var root = new RootCommand("OdooOps — the self-hosted control plane for Odoo hosting.")
{
    ServeCommand.Create(),
    DbCommand.Create(),
    SeedCommand.Create(),
};
// serve owns SIGINT/SIGTERM through the ASP.NET Core host so that it can stop its database cleanly.
return await root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });

/// <summary>Visible to the tests' WebApplicationFactory.</summary>
public partial class Program;
