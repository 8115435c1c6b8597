using OdooOps.Bench;

// Benchmarks of OdooOps' targets, run by hand (never by the test suite):
//   dotnet run -c Release --project bench/OdooOps.Bench -- projects [--seconds 10] [--clients 32] [--projects 1000]
//   dotnet run -c Release --project bench/OdooOps.Bench -- ingest [--seconds 10] [--clients 4] [--batch 1000]
//   dotnet run -c Release --project bench/OdooOps.Bench -- rollups [--small 1000000] [--history 50000000] [--repeats 7]
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
    default:
        Console.WriteLine("usage: odooops-bench projects [--seconds N] [--clients N] [--projects N] | ingest [--seconds N] [--clients N] [--batch N] | rollups [--small N] [--history N] [--repeats N]");
        return verb == "help" ? 0 : 2;
}
