using System.Text.RegularExpressions;
using OdooOps.Server;

namespace OdooOps.Branches;

/// <summary>What a branch may be named: a git branch name OdooOps can keep (the database's CHECK refuses whitespace too).</summary>
internal static partial class BranchRules
{
    public static Validation BranchName(this Validation v, string field, string? value)
    {
        v.Required(field, value);
        if (!string.IsNullOrWhiteSpace(value) && !BranchPattern().IsMatch(value))
            v.Add(field, $"{field} must be a git branch name (no spaces, no '..', no leading '-' or '/').");
        return v;
    }

    [GeneratedRegex(@"^(?![-/])(?!.*\.\.)(?!.*//)[A-Za-z0-9._/+-]{1,200}(?<![/.])$")] private static partial Regex BranchPattern();
}
