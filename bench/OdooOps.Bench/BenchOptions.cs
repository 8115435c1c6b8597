namespace OdooOps.Bench;

/// <summary>The options every bench shares; each reads the ones it needs (the usage text in Program.cs lists them).</summary>
public sealed record BenchOptions(int Seconds, int Clients, int Projects, int Warmup, bool Explain, int Builds, int Jobs, int PauseMs, int Batch, int Deploys, int Instances)
{
    public static BenchOptions Parse(string[] args)
    {
        int Get(string name, int fallback)
        {
            var i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1]) : fallback;
        }
        return new BenchOptions(Get("--seconds", 10), Get("--clients", 32), Get("--projects", 1000), Get("--warmup", 3), args.Contains("--explain"),
            Get("--builds", 200), Get("--jobs", 100_000), Get("--pause-ms", 20), Get("--batch", 16),
            Get("--deploys", 20), Get("--instances", 50));
    }
}
