using Npgsql;
using OdooOps.Database;

namespace OdooOps.Instances.Domains;

/// <summary>What a domain use case (<see cref="DomainAdd"/>, <see cref="DomainRemove"/>, <see cref="DomainCheck"/>) ended in,
/// for the API, the console and (through the API) the CLI to word.</summary>
internal abstract record DomainOutcome
{
    public sealed record Done(InstanceDomain Domain) : DomainOutcome;
    public sealed record Invalid(IDictionary<string, string[]> Errors) : DomainOutcome;
    /// <summary>The name is some branch's already (perhaps another organisation's: which is not said).</summary>
    public sealed record Taken(string Name) : DomainOutcome;
    public sealed record NotFound : DomainOutcome;
    public sealed record Refused(string Message) : DomainOutcome;

    /// <summary>Runs <paramref name="work"/> as the actor; the database's refusals (its role and visibility checks, the
    /// unique name) become outcomes, and the transaction with anything it wrote is rolled back.</summary>
    public static async Task<DomainOutcome> AsUserAsync(OpsDatabase db, Guid? userId, string? name,
        Func<NpgsqlConnection, NpgsqlTransaction, Task<DomainOutcome>> work, CancellationToken ct)
    {
        try
        {
            return await db.AsUserAsync(userId, work, ct);
        }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.InsufficientPrivilege)
        {
            return new Refused(e.MessageText);
        }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.NoDataFound)
        {
            return new NotFound();
        }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.UniqueViolation && name is not null)
        {
            return new Taken(name);
        }
    }
}
