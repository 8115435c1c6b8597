using System.Text;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using OdooOps.Audit;
using OdooOps.Auth;
using OdooOps.Backups.Storage;
using OdooOps.Database;
using OdooOps.Projects;
using OdooOps.Server;
using OdooOps.Ui;

namespace OdooOps.Backups.Pages;

/// <summary>
/// The Backups page's import form (<c>POST /app/projects/{slug}/backups/import</c>, multipart/form-data). The zip streams
/// from the request into the use case the API calls (<see cref="BackupImportUpload"/>: who may, the quota, the zip's
/// checks, the audit row), up to OPS_BACKUP_MAX_GB like the API — never whole in memory, nor buffered as a form first,
/// so this endpoint reads its form itself, in the page's order: the antiforgery token (checked before anything else is
/// read), the branch, then the file. It answers with a redirect to the page (POST-redirect-GET), which words the
/// outcome: the imported backup, the failed one with its reason (nothing stored), or a refusal that came before a
/// backup row existed (<see cref="Errors"/>).
/// </summary>
internal static class BackupImportForm
{
    public const string BranchField = "Branch", FileField = "File";

    /// <summary>The <c>import_error</c> codes of the redirect, which the page words (BackupDisplay.ImportError).</summary>
    public static class Errors
    {
        public const string Form = "form", Refused = "refused", TooMany = "too_many", TooLarge = "too_large", Unavailable = "unavailable",
            NotFound = "not_found", Conflict = "conflict";
    }

    /// <summary>What the form holds around the zip: the token, the branch, boundaries and part headers.</summary>
    const long FormBytes = 64 * 1024;
    const int FieldBytes = 4096;

    public static IEndpointRouteBuilder MapBackupImportForm(this IEndpointRouteBuilder app)
    {
        app.MapPost("/app/projects/{slug}/backups/import", ImportAsync).RequireAuthorization(AccessPolicies.SignedIn).ReadsOwnForm()
            .ExcludeFromDescription();
        return app;
    }

    static async Task<IResult> ImportAsync(string slug, HttpContext http, ConsoleContext console, OpsDatabase db, BackupImport import,
        IAntiforgery antiforgery, IOptions<AntiforgeryOptions> antiforgeryOptions, CancellationToken ct)
    {
        var page = $"{http.Request.PathBase}/app/projects/{Uri.EscapeDataString(slug)}/backups";
        IResult Back(string query) => Results.Redirect($"{page}?{query}");

        if (!MediaTypeHeaderValue.TryParse(http.Request.ContentType, out var type) || !type.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase)
            || HeaderUtilities.RemoveQuotes(type.Boundary).Value is not { Length: > 0 and <= 70 } boundary)
            return Back($"import_error={Errors.Form}");
        try { import.AcceptLargeBody(http, FormBytes); }
        catch (BackupTooLargeException) { return Back($"import_error={Errors.TooLarge}"); }

        var reader = new MultipartReader(boundary, http.Request.Body) { HeadersLengthLimit = 16 * 1024 };
        MultipartSection? file;
        Guid branchId;
        try
        {
            // The token is read where the header would be, so the framework checks it (cookie, user) without reading a form.
            var options = antiforgeryOptions.Value;
            if (options.HeaderName is not { } header || await FieldAsync(reader, options.FormFieldName, ct) is not { } token) return Forged();
            http.Request.Headers[header] = token;
            if (!await antiforgery.IsRequestValidAsync(http)) return Forged();

            if (!Guid.TryParse(await FieldAsync(reader, BranchField, ct), out branchId)) return Back($"import_error={Errors.Form}");
            file = await reader.ReadNextSectionAsync(ct);
            if (file?.GetContentDispositionHeader() is not { } disposition || Name(disposition) != FileField || !disposition.IsFileDisposition())
                return Back($"import_error={Errors.Form}&into={branchId}");
        }
        catch (Exception e) when (e is IOException or InvalidDataException)
        {
            return Back($"import_error={Errors.Form}");
        }

        if (await console.GetAsync() is not { CurrentOrg: { } org } state) return Results.NotFound();
        var projectId = await db.AsUserAsync(state.UserId, async (c, t) => (await ProjectStore.GetSummaryBySlugAsync(c, t, org.Id, slug))?.Id, ct);
        if (projectId is not { } project) return Results.Redirect(page); // the page says the project is not found

        var outcome = await BackupImportUpload.ImportAsync(db, import, Actor.User(state.UserId, http.Connection.RemoteIpAddress), project, branchId,
            file.Body, ct);
        return outcome switch
        {
            BackupOutcome.Queued q => Back($"done=import&backup={q.Backup.Id}"),
            { Recorded: { } failed } => Back($"done=import&backup={failed.Id}"), // the page shows its reason
            BackupOutcome.Refused => Back($"import_error={Errors.Refused}&into={branchId}"),
            BackupOutcome.TooMany => Back($"import_error={Errors.TooMany}&into={branchId}"),
            BackupOutcome.Conflict => Back($"import_error={Errors.Conflict}&into={branchId}"),
            BackupOutcome.TooLarge => Back($"import_error={Errors.TooLarge}&into={branchId}"),
            BackupOutcome.Unavailable => Back($"import_error={Errors.Unavailable}&into={branchId}"),
            BackupOutcome.Invalid => Back($"import_error={Errors.Form}&into={branchId}"),
            _ => Back($"import_error={Errors.NotFound}"),
        };
    }

    static IResult Forged() => Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Bad request",
        detail: "The form's antiforgery token is missing or not valid (the form is old, or came from another site); reload the page and try again. Nothing was imported.");

    static string? Name(ContentDispositionHeaderValue d) => HeaderUtilities.RemoveQuotes(d.Name).Value;

    /// <summary>The next part's value when it is the text field <paramref name="name"/> of at most <see cref="FieldBytes"/>; null otherwise.</summary>
    static async Task<string?> FieldAsync(MultipartReader reader, string name, CancellationToken ct)
    {
        var section = await reader.ReadNextSectionAsync(ct);
        if (section?.GetContentDispositionHeader() is not { } d || !d.IsFormDisposition() || Name(d) != name) return null;
        var buffer = new byte[FieldBytes + 1];
        int read = 0, n;
        while (read < buffer.Length && (n = await section.Body.ReadAsync(buffer.AsMemory(read), ct)) > 0) read += n;
        return read > FieldBytes ? null : Encoding.UTF8.GetString(buffer, 0, read);
    }
}
