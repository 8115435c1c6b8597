using System.Runtime.CompilerServices;

namespace OdooOps.Database;

static class DapperSetup
{
    /// <summary>snake_case columns map onto PascalCase members and record parameters, everywhere this assembly is loaded.</summary>
    [ModuleInitializer]
    internal static void Init() => Dapper.DefaultTypeMap.MatchNamesWithUnderscores = true;
}
