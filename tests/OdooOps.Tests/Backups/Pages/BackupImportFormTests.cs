using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using OdooOps.Tests.Backups.Storage;
using OdooOps.Tests.Infrastructure;

namespace OdooOps.Tests.Backups.Pages;

/// <summary>
/// The Backups page's import form (POST /app/projects/{slug}/backups/import) over HTTP, as a browser sends it, signed in
/// with a session cookie: a post without the page's antiforgery token, or with a forged one (another site's form), is
/// 400 and makes no backup; parts out of the page's order make none either; a body that says it is past
/// OPS_BACKUP_MAX_GB is refused before it is read; and a 160 MB upload — past Kestrel's 30 MB and a buffered form's
/// 128 MB — streams into the spool as it arrives (the sender holds the rest back until 80 MB are on disk: a server
/// that read the form whole first would have spooled nothing and the test would time out), is refused as no zip with
/// its reason recorded, and leaves nothing stored.
/// </summary>
[Collection(HeavyTests.Name)]
public sealed partial class BackupImportFormTests(BackupWorld world) : IClassFixture<BackupWorld>
{
    const string Path = "/app/projects/erp/backups/import";

    /// <summary>A tester of A signed in through /login (cookies kept, redirects not followed), and the Backups page's form token.</summary>
    async Task<(HttpClient Browser, CookieContainer Cookies, string Token)> SignedInAsync()
    {
        var email = $"importer-{Guid.NewGuid():N}@a.test";
        await Accounts.CreateUserAsync(world.Server.Owner, email, world.A.OrgId, "tester");
        var cookies = new CookieContainer();
        var browser = new HttpClient(new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false, UseProxy = false })
        {
            BaseAddress = new Uri(world.Server.Url), Timeout = TimeSpan.FromMinutes(10),
        };
        Assert.Equal(HttpStatusCode.Redirect, (await Accounts.SignInAsync(browser, email)).StatusCode);
        var page = await browser.GetStringAsync("/app/projects/erp/backups");
        var form = page[page.IndexOf("class=\"form-grid import-form\"", StringComparison.Ordinal)..];
        return (browser, cookies, TokenField().Match(form).Groups[1].Value);
    }

    static MultipartFormDataContent Form(params (string Name, HttpContent Content, string? FileName)[] parts)
    {
        var form = new MultipartFormDataContent();
        foreach (var (name, content, fileName) in parts)
            if (fileName is null) form.Add(content, name);
            else form.Add(content, name, fileName);
        return form;
    }

    static (string, HttpContent, string?) Field(string name, string value) => (name, new StringContent(value), null);

    static (string, HttpContent, string?) File(byte[] bytes) => ("File", new ByteArrayContent(bytes) { Headers = { ContentType = new("application/zip") } }, "erp.zip");

    Task<long> ImportsAsync() =>
        world.ScalarAsync<long>("select count(*) from ops.backups where branch_id = @StagingBranchId and kind = 'import'", new { world.A.StagingBranchId });

    [Fact]
    public async Task Without_the_pages_antiforgery_token_or_in_another_order_nothing_is_imported()
    {
        var (browser, _, token) = await SignedInAsync();
        var zip = BackupZips.Odoos("select 1;");
        var branch = world.A.StagingBranchId.ToString();
        var before = await ImportsAsync();

        // Another site's form: the session cookie goes along, the page's token cannot.
        foreach (var forged in new[]
        {
            Form(Field("Branch", branch), File(zip)),
            Form(Field("__RequestVerificationToken", "CfDJ8forged"), Field("Branch", branch), File(zip)),
            Form(Field("__RequestVerificationToken", ""), Field("Branch", branch), File(zip)),
        })
        {
            var refused = await browser.PostAsync(Path, forged);
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.Contains("antiforgery token is missing or not valid", await refused.Content.ReadAsStringAsync());
        }
        // The file before the branch (the zip would have to be held while waiting for it): refused, and said on the page.
        var outOfOrder = await browser.PostAsync(Path, Form(Field("__RequestVerificationToken", token), File(zip), Field("Branch", branch)));
        Assert.Equal(HttpStatusCode.Redirect, outOfOrder.StatusCode);
        Assert.Equal("/app/projects/erp/backups?import_error=form", outOfOrder.Headers.Location?.OriginalString);
        Assert.Equal(before, await ImportsAsync());

        // The same form with the page's token and in its order is imported.
        var ok = await browser.PostAsync(Path, Form(Field("__RequestVerificationToken", token), Field("Branch", branch), File(zip)));
        Assert.Equal(HttpStatusCode.Redirect, ok.StatusCode);
        var id = Guid.Parse(Regex.Match(ok.Headers.Location!.OriginalString, "done=import&backup=([0-9a-f-]{36})$").Groups[1].Value);
        Assert.Equal("succeeded", await world.ScalarAsync<string>("select status from ops.backups where id = @id and kind = 'import'", new { id }));
        Assert.Equal(1L, await world.ScalarAsync<long>("select count(*) from ops.audit_log where action = 'backup.import' and target_id = @id", new { id = id.ToString() }));
    }

    [Fact]
    public async Task A_body_that_says_it_is_past_the_limit_is_refused_before_it_is_read()
    {
        var (_, cookies, token) = await SignedInAsync();
        var before = await ImportsAsync();
        var url = new Uri(world.Server.Url);
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(url.Host, url.Port);
        await using var stream = tcp.GetStream();
        var request = $"POST {Path} HTTP/1.1\r\nHost: {url.Authority}\r\nCookie: {cookies.GetCookieHeader(url)}\r\n" +
                      $"Content-Type: multipart/form-data; boundary=x\r\nContent-Length: {101L * 1024 * 1024 * 1024}\r\n\r\n" +
                      $"--x\r\nContent-Disposition: form-data; name=\"__RequestVerificationToken\"\r\n\r\n{token}\r\n";
        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(request));
        using var reader = new StreamReader(stream);
        Assert.StartsWith("HTTP/1.1 302", await reader.ReadLineAsync());
        string? line;
        var location = "";
        while (!string.IsNullOrEmpty(line = await reader.ReadLineAsync()))
            if (line.StartsWith("Location:", StringComparison.OrdinalIgnoreCase)) location = line["Location:".Length..].Trim();
        Assert.Equal("/app/projects/erp/backups?import_error=too_large", location);
        Assert.Equal(before, await ImportsAsync());
    }

    [Fact]
    public async Task A_160_MB_upload_streams_into_the_spool_and_a_file_that_is_no_zip_is_recorded_failed_with_nothing_stored()
    {
        const long size = 160L * 1024 * 1024, pauseAt = 120L * 1024 * 1024, spooledBeforeGoingOn = 80L * 1024 * 1024;
        var (browser, _, token) = await SignedInAsync();
        var spool = System.IO.Path.Combine(world.DataDir, "tmp");
        var body = new GeneratedStream(size, pauseAt, () => LargeArtifactUploadTests.WaitForBytesOnDiskAsync(spool, spooledBeforeGoingOn));
        var file = new StreamContent(body, 256 * 1024); // no length: the form goes chunked
        file.Headers.ContentType = new MediaTypeHeaderValue("application/zip");

        var response = await browser.PostAsync(Path,
            Form(Field("__RequestVerificationToken", token), Field("Branch", world.A.StagingBranchId.ToString()), ("File", file, "huge.zip")));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var id = Guid.Parse(Regex.Match(response.Headers.Location!.OriginalString, "done=import&backup=([0-9a-f-]{36})$").Groups[1].Value);
        Assert.Equal("failed: Not a backup zip: The file is not a zip.",
            await world.ScalarAsync<string>("select status || ': ' || reason from ops.backups where id = @id and storage_key is null", new { id }));
        Assert.Empty(Directory.EnumerateFiles(spool));
        Assert.False(Directory.Exists(world.StorageFolder) &&
                     Directory.EnumerateFiles(world.StorageFolder, $"{id}.zip", SearchOption.AllDirectories).Any());

        // The page says why, as an error.
        var page = await browser.GetStringAsync(response.Headers.Location.OriginalString);
        Assert.Contains("The import into staging failed: Not a backup zip: The file is not a zip. Nothing was stored.", WebUtility.HtmlDecode(page));
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex TokenField();
}
