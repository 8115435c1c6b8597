using System.Globalization;
using System.Text.Json;
using static OdooOps.Runners.Protocol.RunnerProtocol;

namespace OdooOps.Runners.Agent.Backups;

/// <summary>
/// manifest.json, the last entry of a backup zip: Odoo's own keys (so Odoo's database manager takes the zip) and,
/// in <c>odooops</c>, what OdooOps checks a restore against. An Odoo zip has no <c>odooops</c> part: <see cref="Facts"/> null.
/// </summary>
internal sealed record BackupManifest(string? DbName, string? Version, string? PgVersion, IReadOnlyDictionary<string, string?> InstalledModules,
    ManifestFacts? Facts)
{
    public const string EntryName = "manifest.json";

    /// <summary>Odoo's major version of a version string ("17.0", "saas~17.2", "saas-17.2", "16.0+e"): 17, 17, 17, 16; 0 if none.</summary>
    public static int Major(string version)
    {
        var digits = version.StartsWith("saas", StringComparison.Ordinal) ? version[5..] : version;
        var end = 0;
        while (end < digits.Length && char.IsAsciiDigit(digits[end])) end++;
        return int.TryParse(digits.AsSpan(0, end), NumberStyles.None, CultureInfo.InvariantCulture, out var major) ? major : 0;
    }

    public byte[] ToJson()
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("odoo_dump", "1");
            json.WriteString("db_name", DbName);
            json.WriteString("version", Version);
            // Odoo's (major, minor, micro, level, serial, suffix); release tags are not known here: a final release.
            var major = Major(Version ?? "");
            var minor = Version?.Split('.') is [_, var m, ..] && int.TryParse(m.TakeWhile(char.IsAsciiDigit).ToArray(), out var n) ? n : 0;
            json.WriteStartArray("version_info");
            json.WriteNumberValue(major);
            json.WriteNumberValue(minor);
            json.WriteNumberValue(0);
            json.WriteStringValue("final");
            json.WriteNumberValue(0);
            json.WriteStringValue("");
            json.WriteEndArray();
            json.WriteString("major_version", $"{major}.0");
            json.WriteString("pg_version", PgVersion);
            json.WriteStartObject("modules");
            foreach (var (name, version) in InstalledModules.OrderBy(m => m.Key, StringComparer.Ordinal)) json.WriteString(name, version);
            json.WriteEndObject();
            if (Facts is { } facts)
            {
                json.WriteStartObject("odooops");
                json.WriteString("format", facts.Format);
                json.WriteNumber("table_count", facts.TableCount);
                json.WriteNumber("filestore_files", facts.FilestoreFiles);
                json.WriteNumber("filestore_bytes", facts.FilestoreBytes);
                json.WriteString("filestore_sha256", facts.FilestoreSha256);
                if (facts.DumpBytes is { } dumpBytes) json.WriteNumber("dump_bytes", dumpBytes);
                if (facts.DumpSha256 is { } dumpSha) json.WriteString("dump_sha256", dumpSha);
                json.WriteStartArray("modules");
                foreach (var module in facts.Modules)
                {
                    json.WriteStartObject();
                    json.WriteString("name", module.Name);
                    json.WriteString("state", module.State);
                    json.WriteString("version", module.Version);
                    json.WriteEndObject();
                }
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }

    /// <summary>Reads a manifest (ours or Odoo's); throws <see cref="BackupException"/> naming what is wrong.</summary>
    public static BackupManifest Parse(ReadOnlyMemory<byte> json)
    {
        try
        {
            using var document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 16 });
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new BackupException("manifest.json is not a JSON object.");
            var installed = new Dictionary<string, string?>(StringComparer.Ordinal);
            if (root.TryGetProperty("modules", out var modules) && modules.ValueKind == JsonValueKind.Object)
                foreach (var module in modules.EnumerateObject())
                    installed[module.Name] = module.Value.ValueKind == JsonValueKind.String ? module.Value.GetString() : null;
            ManifestFacts? facts = null;
            if (root.TryGetProperty("odooops", out var ours))
            {
                if (ours.ValueKind != JsonValueKind.Object) throw new BackupException("manifest.json: odooops is not an object.");
                var list = new List<BackupModule>();
                foreach (var module in Required(ours, "modules", JsonValueKind.Array).EnumerateArray())
                    list.Add(new BackupModule(Text(module, "name") ?? throw new BackupException("manifest.json: a module has no name."),
                        Text(module, "state") ?? "", Text(module, "version")));
                facts = new ManifestFacts(Text(ours, "format") ?? "custom", Required(ours, "table_count", JsonValueKind.Number).GetInt32(),
                    Required(ours, "filestore_files", JsonValueKind.Number).GetInt32(), Required(ours, "filestore_bytes", JsonValueKind.Number).GetInt64(),
                    Required(ours, "filestore_sha256", JsonValueKind.String).GetString()!, list,
                    ours.TryGetProperty("dump_bytes", out var bytes) && bytes.ValueKind == JsonValueKind.Number ? bytes.GetInt64() : null,
                    Text(ours, "dump_sha256"));
            }
            return new BackupManifest(Text(root, "db_name"), Text(root, "version"), Text(root, "pg_version"), installed, facts);
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException)
        {
            throw new BackupException($"manifest.json cannot be read: {e.Message}");
        }
    }

    static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    static JsonElement Required(JsonElement element, string name, JsonValueKind kind) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == kind ? value : throw new BackupException($"manifest.json: odooops.{name} is missing.");
}

/// <summary>
/// What OdooOps recorded about a backup when it took it. <c>format</c>: custom (dump.dump). The dump's own size and
/// SHA-256 let a restore refuse an altered dump before anything runs it.
/// </summary>
internal sealed record ManifestFacts(string Format, int TableCount, int FilestoreFiles, long FilestoreBytes, string FilestoreSha256,
    IReadOnlyList<BackupModule> Modules, long? DumpBytes, string? DumpSha256);
