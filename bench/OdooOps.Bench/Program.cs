using OdooOps.Bench;

// Benchmarks of OdooOps' targets, run by hand (never by the test suite):
//   dotnet run -c Release --project bench/OdooOps.Bench -- projects [--seconds 10] [--clients 32] [--projects 1000]
//   dotnet run -c Release --project bench/OdooOps.Bench -- ingest [--seconds 10] [--clients 4] [--batch 1000]
//   dotnet run -c Release --project bench/OdooOps.Bench -- rollups [--small 1000000] [--history 50000000] [--repeats 7]
//   dotnet run -c Release --project bench/OdooOps.Bench -- dispatch [--builds 200] [--pause-ms 20]
//   dotnet run -c Release --project bench/OdooOps.Bench -- claim [--jobs 100000] [--seconds 10] [--batch 16]
//   dotnet run -c Release --project bench/OdooOps.Bench -- sandbox [--builds 10]   (as root)
//   dotnet run -c Release --project bench/OdooOps.Bench -- proxy [--seconds 10] [--clients 32] [--pause-ms 0 | --standin [--workers 2]]
//   dotnet run -c Release --project bench/OdooOps.Bench -- backup [--db-mb 500] [--files 2000] [--rounds 3]
//   dotnet run -c Release --project bench/OdooOps.Bench -- staging [--db-mb 500] [--files 2000] [--rounds 3]
//   dotnet run -c Release --project bench/OdooOps.Bench -- instances [--deploys 20] [--instances 50] [--idle-seconds 60] [--parts 1,2,3]   (as root)
var verb = args.FirstOrDefault() ?? "help";
var options = BenchOptions.Parse(args.Skip(1).ToArray());
switch (verb)
{
    case "projects":
        return await ProjectsBench.RunAsync(options);
    case "ingest":
        return await IngestBench.RunAsync(options);
    case "rollups":
        return await RollupBench.RunAsync(args);
    case "dispatch":
        return await DispatchBench.RunAsync(options);
    case "claim":
        return await ClaimBench.RunAsync(options);
    case "sandbox":
        return await SandboxBench.RunAsync(options with { Builds = args.Contains("--builds") ? options.Builds : 10 });
    case "proxy":
        return await ProxyBench.RunAsync(options with { PauseMs = args.Contains("--pause-ms") ? options.PauseMs : 0 }, args);
    case "instances":
        return await InstanceBench.RunAsync(options, args);
    case "backup":
        return await BackupBench.RunAsync(args);
    case "staging":
        return await StagingBench.RunAsync(args);
    case "pages": return await PagesBench.RunAsync(args); // [--requests 200] [--warmup 20]: every console page, p50/p95 (≤ 50 ms)
    default:
        Console.WriteLine("""
            usage: odooops-bench <verb> [options]
              projects [--seconds N] [--clients N] [--projects N]
              ingest   [--seconds N] [--clients N] [--batch N]
              rollups  [--small N] [--history N] [--repeats N]
              dispatch [--builds N] [--pause-ms N]    trigger → runner has the job (p50/p95/max), long poll woken by NOTIFY
              claim    [--jobs N] [--seconds N] [--batch N]    queue claim+finish jobs/s, 1/4/8 workers, unbatched and batched
              sandbox  [--builds N]    a build of 20 trivial steps with and without the sandbox (as root): cost per step
              proxy    [--seconds N] [--clients N] [--pause-ms N | --standin [--workers N]]    an instance's page (answered after N ms, or by the
                       stand-in odoo-bin from its database) straight and through serve's proxy by host name: p50/p95, req/s
              backup   [--db-mb N] [--files N] [--rounds N]    a backup (zip: pg_dump -Fc + filestore + checksums) vs pg_dump -Fc + tar
                       of the same database and filestore (throughput ratio), then restore-to-serving with the stand-in
              staging  [--db-mb N] [--files N] [--rounds N]    a staging refresh from production's verified backup (download, restore,
                       neutralise, the stand-in serving /web/login) by the runner's code vs the plain script (cp, pg_restore, tar, psql)
              instances [--deploys N] [--instances N] [--idle-seconds N] [--baseline-seconds N] [--build-capacity N] [--runner-env K=V] [--parts 1,2,3]    (as root) stand-in Odoo servers in
                       sandboxes: 1. production deploy downtime seen through the proxy (p50/max) and as recorded; 2. failed requests while a
                       development branch switches releases; 3. `odooops runner` idle with N instances: its CPU and memory
            """);
        return verb == "help" ? 0 : 2;
}
