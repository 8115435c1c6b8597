using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Dapper;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using NpgsqlTypes;
using OdooOps.Database;
using OdooOps.Metrics;
using OdooOps.Secrets;
using OdooOps.Server;

namespace OdooOps.Bench;

/// <summary>
/// Issue 4's target: HTTP ingest (POST /functions/v1/ops-metrics-ingest, 4 concurrent clients, 1,000-sample batches,
/// every sample new) stores at least 0.7× the samples/s of a raw binary COPY of the same rows into the same
/// partitioned table with the same indexes, at the same concurrency and batch size, in the same run. Each side writes
/// its own UTC day, so both start from an empty partition. Everything runs on this machine: an embedded PostgreSQL
/// (durable, as `serve` runs it), the server in-process on Kestrel, the clients.
/// </summary>
public static class IngestBench
{
    const int Metrics = 10;

    public static async Task<int> RunAsync(BenchOptions o)
    {
        var args = Environment.GetCommandLineArgs();
        var clients = args.Contains("--clients") ? o.Clients : 4;
        var batch = args.Contains("--batch") ? int.Parse(args[Array.IndexOf(args, "--batch") + 1]) : 1000;
        Console.WriteLine($"load average: {File.ReadAllText("/proc/loadavg").Trim()} ({Environment.ProcessorCount} CPUs; run on a quiet machine, load < 1.5)");

        var dir = Path.Combine(Path.GetTempPath(), $"odooops-bench-{Guid.NewGuid():N}"[..28]);
        await using var pg = await LocalPostgres.StartAsync(dir);
        try
        {
            var owner = pg.ConnectionString();
            await new Migrator(owner.ConnectionString).MigrateAsync();
            var credentials = await LoginRoles.EnsureAsync(owner);
            var (projectId, branchId) = await SeedAsync(owner);
            var today = DateTime.UtcNow.Date;
            DateTime httpDay = today.AddDays(-1), copyDay = today.AddDays(-2);

            var token = OpsSecrets.Generate();
            await using var database = OpsDatabase.Create(credentials);
            var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = "Warning", ["OPS_RUNNERS"] = "0" }).Build();
            await using var app = ServerApp.Build("http://127.0.0.1:0", config, database,
                new OpsSecrets(new Dictionary<string, string> { [OpsSecrets.IngestToken] = token, [OpsSecrets.AdvisoryScanToken] = OpsSecrets.Generate() },
                    SecretsKey.Generate()));
            await app.StartAsync();
            var url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = clients, AutomaticDecompression = DecompressionMethods.None })
                { BaseAddress = new Uri(url) };
            http.DefaultRequestHeaders.Add(MetricsIngestApi.TokenHeader, token);
            Console.WriteLine($"{clients} clients, {batch}-sample batches, {o.Warmup} s warm-up + {o.Seconds} s per run; HTTP writes {httpDay:yyyy-MM-dd}, COPY {copyDay:yyyy-MM-dd}.");

            long next = 0; // a global sample counter: sample n is at day + 1 h + n µs, so no two samples are duplicates
            async Task HttpBatch(DateTime day)
            {
                var first = Interlocked.Add(ref next, batch) - batch;
                using var content = new ByteArrayContent(Body(projectId, day, first, batch));
                content.Headers.ContentType = new("application/json");
                using var response = await http.PostAsync(MetricsIngestApi.Route, content);
                var answer = await response.Content.ReadAsStringAsync();
                if (answer != $"{{\"inserted\": {batch}}}") throw new InvalidOperationException($"ingest answered {(int)response.StatusCode}: {answer}");
            }
            async Task CopyBatch(NpgsqlConnection conn, DateTime day)
            {
                var first = Interlocked.Add(ref next, batch) - batch;
                await using var copy = await conn.BeginBinaryImportAsync(
                    "copy ops.metric_samples (project_id, branch_id, metric, ts, value) from stdin (format binary)");
                for (var i = 0; i < batch; i++)
                {
                    var n = first + i;
                    await copy.StartRowAsync();
                    await copy.WriteAsync(projectId, NpgsqlDbType.Uuid);
                    await copy.WriteAsync(branchId, NpgsqlDbType.Uuid);
                    await copy.WriteAsync(MetricName(n), NpgsqlDbType.Text);
                    await copy.WriteAsync(At(day, n), NpgsqlDbType.TimestampTz);
                    await copy.WriteAsync(n % 1000 / 10.0, NpgsqlDbType.Double);
                }
                await copy.CompleteAsync();
            }

            var peak = new PeakWorkingSet();
            await RunAsync(clients, o.Warmup, _ => () => HttpBatch(httpDay)); // warm-up also creates the day partitions
            var httpRun = await peak.WhileAsync(() => RunAsync(clients, o.Seconds, _ => () => HttpBatch(httpDay)));
            // The same batches straight into ops.ingest_metric_batch (no HTTP, no JSON): where the gap to COPY is.
            async Task DirectBatch(DateTime day)
            {
                var first = Interlocked.Add(ref next, batch) - batch;
                var samples = new IngestBatch { ProjectId = projectId, BatchTs = At(day, first) };
                for (var n = first; n < first + batch; n++) samples.Add(MetricName(n), n % 1000 / 10.0, At(day, n), null, null);
                var outcome = await MetricsIngestStore.IngestAsync(database.Service, samples, null, null, default);
                if (outcome.Inserted != batch) throw new InvalidOperationException($"direct call inserted {outcome.Inserted}");
            }
            var directDay = today.AddDays(-3);
            await RunAsync(clients, o.Warmup, _ => () => DirectBatch(directDay));
            var directRun = await RunAsync(clients, o.Seconds, _ => () => DirectBatch(directDay));

            var copyConnections = new List<NpgsqlConnection>();
            for (var c = 0; c < clients; c++) copyConnections.Add(await OpenAsync(owner));
            await using (var conn = await OpenAsync(owner)) await conn.ExecuteAsync("select ops.ensure_metric_partitions(@day::date, 1)", new { day = copyDay });
            await RunAsync(clients, o.Warmup, c => () => CopyBatch(copyConnections[c], copyDay));
            var copyRun = await RunAsync(clients, o.Seconds, c => () => CopyBatch(copyConnections[c], copyDay));
            foreach (var c in copyConnections) await c.DisposeAsync();

            double httpRate = httpRun * batch / (double)o.Seconds, copyRate = copyRun * batch / (double)o.Seconds, directRate = directRun * batch / (double)o.Seconds;
            Console.WriteLine();
            Console.WriteLine($"HTTP ingest      {httpRate,10:N0} samples/s  ({httpRun} requests)");
            Console.WriteLine($"function only    {directRate,10:N0} samples/s  (ops.ingest_metric_batch, same arrays, no HTTP)");
            Console.WriteLine($"raw binary COPY  {copyRate,10:N0} samples/s  ({copyRun} COPY commands)");
            Console.WriteLine($"HTTP / COPY = {httpRate / copyRate:F2}  (target ≥ 0.70: {(httpRate / copyRate >= 0.7 ? "met" : "NOT met")})");
            Console.WriteLine($"peak working set during the HTTP run (server and clients share this process): {peak.Bytes / 1048576.0:F0} MiB");
            await app.StopAsync();
            return 0;
        }
        finally
        {
            await pg.StopAsync();
            try { Directory.Delete(dir, true); } catch (IOException) { }
        }
    }

    static string MetricName(long n) => $"bench.m{n % Metrics}";

    static DateTime At(DateTime day, long n) => day.AddHours(1).AddTicks(n * 10);

    /// <summary>A batch as an agent sends it: one ts per sample (distinct), the production branch.</summary>
    static byte[] Body(Guid projectId, DateTime day, long first, int count)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(count * 80);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("project_id", projectId);
            json.WriteString("ts", At(day, first));
            json.WriteStartArray("samples");
            for (var n = first; n < first + count; n++)
            {
                json.WriteStartObject();
                json.WriteString("metric", MetricName(n));
                json.WriteNumber("value", n % 1000 / 10.0);
                json.WriteString("ts", At(day, n)); // ISO 8601 with Z (the DateTime is UTC), written without a string
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Runs <paramref name="clients"/> loops of batches for <paramref name="seconds"/>; returns the batches done.</summary>
    static async Task<long> RunAsync(int clients, int seconds, Func<int, Func<Task>> loopOf)
    {
        var until = Stopwatch.GetTimestamp() + (long)(seconds * (double)Stopwatch.Frequency);
        long done = 0;
        await Task.WhenAll(Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
        {
            var step = loopOf(c);
            while (Stopwatch.GetTimestamp() < until)
            {
                await step();
                Interlocked.Increment(ref done);
            }
        })));
        return done;
    }

    static async Task<NpgsqlConnection> OpenAsync(NpgsqlConnectionStringBuilder cs)
    {
        var conn = new NpgsqlConnection(cs.ConnectionString);
        await conn.OpenAsync();
        return conn;
    }

    static async Task<(Guid ProjectId, Guid BranchId)> SeedAsync(NpgsqlConnectionStringBuilder owner)
    {
        await using var conn = await OpenAsync(owner);
        var org = await conn.ExecuteScalarAsync<Guid>("insert into registry.orgs (name, slug) values ('bench', 'bench') returning id");
        var project = await conn.ExecuteScalarAsync<Guid>(
            "insert into ops.projects (org_id, name, slug, repo_url) values (@org, 'Bench', 'bench', 'https://git.example.com/bench.git') returning id", new { org });
        var branch = await conn.ExecuteScalarAsync<Guid>(
            "insert into ops.branches (project_id, name, stage, is_production) values (@project, 'main', 'production', true) returning id", new { project });
        return (project, branch);
    }

    /// <summary>Samples this process's working set every 20 ms while a run lasts.</summary>
    sealed class PeakWorkingSet
    {
        public long Bytes { get; private set; }

        public async Task<T> WhileAsync<T>(Func<Task<T>> run)
        {
            using var stop = new CancellationTokenSource();
            var sampler = Task.Run(async () =>
            {
                using var self = Process.GetCurrentProcess();
                while (!stop.IsCancellationRequested)
                {
                    self.Refresh();
                    Bytes = Math.Max(Bytes, self.WorkingSet64);
                    try { await Task.Delay(20, stop.Token); } catch (OperationCanceledException) { }
                }
            });
            var result = await run();
            await stop.CancelAsync();
            await sampler;
            return result;
        }
    }
}
