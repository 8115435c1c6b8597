using System.Xml.Linq;
using Dapper;
using Microsoft.AspNetCore.DataProtection.Repositories;
using OdooOps.Database;

namespace OdooOps.Auth;

/// <summary>Data-protection keys in ops_private, so cookies survive restarts and work across replicas.</summary>
internal sealed class DatabaseKeyRepository(OpsDatabase database) : IXmlRepository
{
    public IReadOnlyCollection<XElement> GetAllElements()
    {
        using var conn = database.Service.OpenConnection();
        return [.. conn.Query<string>("select xml from ops_private.data_protection_keys order by created_at").Select(XElement.Parse)];
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        using var conn = database.Service.OpenConnection();
        conn.Execute("insert into ops_private.data_protection_keys (friendly_name, xml) values (@friendlyName, @xml) on conflict do nothing",
            new { friendlyName, xml = element.ToString(SaveOptions.DisableFormatting) });
    }
}
