namespace OdooOps.Bench;

public sealed record BenchOptions(int Seconds, int Clients, int Projects, int Warmup, bool Explain)
{
    public static BenchOptions Parse(string[] args)
    {
        int Get(string name, int fallback)
        {
            var i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1]) : fallback;
        }
        return new BenchOptions(Get("--seconds", 10), Get("--clients", 32), Get("--projects", 1000), Get("--warmup", 3), args.Contains("--explain"));
    }
}
