using System.Runtime.CompilerServices;

namespace OdooOps.Tests.Infrastructure;

/// <summary>
/// The hundreds of servers the suite starts each announce their start and stop on the console; those lines buried
/// the failures in CI's output. Warnings and errors still print.
/// </summary>
static class QuietHosts
{
    [ModuleInitializer]
    internal static void Initialize() =>
        Environment.SetEnvironmentVariable("Logging__LogLevel__Microsoft.Hosting.Lifetime", "Warning");
}
