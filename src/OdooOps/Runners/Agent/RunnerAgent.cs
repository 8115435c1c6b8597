using static OdooOps.Runners.Protocol.RunnerProtocol;

namespace OdooOps.Runners.Agent;

/// <summary>
/// A runner's main loop: long-polls for as many jobs as it has free slots, runs each on its own task, and polls again
/// when a slot frees up. Network or server failures back off (1 s doubling to 30 s) and never drop a running build.
/// Stopping kills the running builds' steps (within their grace) and hands each build back (release); RunAsync returns
/// once that is done.
/// </summary>
internal sealed class RunnerAgent(DispatchClient client, RunnerOptions options, ILogger log)
{
    static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    public async Task RunAsync(CancellationToken stopping)
    {
        // A runner that hosts instances supervises them beside its builds; they stop when it stops.
        var uids = new Sandbox.SandboxUids(options.Sandbox);
        // Before anything of this runner's runs: what a kill of its last run left (an interrupted update is undone first).
        await RunnerLeftovers.ClearAsync(options, uids, log);
        var supervisor = options.HostsInstances ? new Instances.InstanceSupervisor(client, options, uids, log) : null;
        var supervising = supervisor?.RunAsync(stopping) ?? Task.CompletedTask;
        if (supervisor is null && options.Instances.Enabled)
            log.LogInformation("Runner {Name} hosts no instances: {Why}.", options.Name,
                options.OdooBin is not { Length: > 0 } ? $"no odoo-bin ({EmbeddedRunner.OdooBinKey})"
                : options.Instances.Database is null ? $"no database server for Odoo ({Instances.OdooDatabaseServer.ConnectionKey})"
                : $"it runs unsandboxed ({Sandbox.SandboxSettings.UnsandboxedKey})");
        var executor = new BuildExecutor(client, options, log, supervisor);
        var running = new List<Task>();
        var stopped = Task.Delay(Timeout.Infinite, stopping); // one registration on the token, not one per wait
        var backoff = TimeSpan.FromSeconds(1);
        log.LogInformation("Runner {Name} polling for builds (capacity {Capacity}, labels {Labels}).", options.Name, options.Capacity,
            options.Labels.Count == 0 ? "none" : string.Join(",", options.Labels));
        while (!stopping.IsCancellationRequested)
        {
            running.RemoveAll(t => t.IsCompleted);
            var free = options.Capacity - running.Count;
            if (free == 0)
            {
                await Task.WhenAny([.. running, stopped]);
                continue;
            }
            try
            {
                foreach (var job in await client.NextAsync(free, MaxWaitSeconds, stopping))
                {
                    log.LogInformation("Build {BuildId} (attempt {Attempt}) of {Project}/{Branch} started.", job.BuildId, job.Attempt, job.ProjectSlug, job.Branch);
                    running.Add(Task.Run(() => RunOneAsync(executor, job, stopping), CancellationToken.None));
                }
                backoff = TimeSpan.FromSeconds(1);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested) { break; }
            catch (Exception e) when (!stopping.IsCancellationRequested)
            {
                // Whatever went wrong with one poll (network, a refusal, an unreadable answer), the runner — and the
                // server it is embedded in — carries on with its running builds and polls again.
                var wait = DispatchClient.NextDelay(e, backoff, MaxBackoff);
                log.LogWarning("Polling {Url} failed ({Message}); retrying in {Delay:g}.", Next, e.Message, wait);
                try { await Task.Delay(wait, stopping); } catch (OperationCanceledException) { break; }
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
            }
        }
        await Task.WhenAll(running);
        await supervising;
    }

    async Task RunOneAsync(BuildExecutor executor, Job job, CancellationToken stopping)
    {
        try { await executor.RunAsync(job, stopping); }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The build's lease runs out and the rescuer re-queues it; the runner itself carries on.
            log.LogError(e, "Build {BuildId} failed inside the runner.", job.BuildId);
        }
    }
}
