using System.Xml.Linq;
using Dapper;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Npgsql;
using OdooOps.Database;

namespace OdooOps.Auth;

/// <summary>Data-protection keys in ops_private, so cookies survive restarts and work across replicas.</summary>
internal sealed class DatabaseKeyRepository(OpsDatabase database) : IXmlRepository
{
    public IReadOnlyCollection<XElement> GetAllElements() => [.. Rows().Select(r => XElement.Parse(r.Xml))];

    public void StoreElement(XElement element, string friendlyName)
    {
        using var conn = database.Service.OpenConnection();
        conn.Execute("insert into ops_private.data_protection_keys (friendly_name, xml) values (@friendlyName, @xml) on conflict do nothing",
            new { friendlyName, xml = element.ToString(SaveOptions.DisableFormatting) });
    }

    public IReadOnlyList<(string FriendlyName, string Xml)> Rows()
    {
        using var conn = database.Service.OpenConnection();
        return [.. conn.Query<(string, string)>("select friendly_name, xml from ops_private.data_protection_keys order by created_at")];
    }

    /// <summary>A key stored again in another form (encrypted), unless another replica changed it first.</summary>
    public static async Task ReplaceAsync(NpgsqlConnection conn, string friendlyName, string before, XElement after) =>
        await conn.ExecuteAsync("update ops_private.data_protection_keys set xml = @after where friendly_name = @friendlyName and xml = @before",
            new { friendlyName, before, after = after.ToString(SaveOptions.DisableFormatting) });
}
