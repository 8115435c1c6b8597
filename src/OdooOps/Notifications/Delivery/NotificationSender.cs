using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;

namespace OdooOps.Notifications.Delivery;

/// <summary>
/// Sends one claimed delivery through its channel: a signed webhook POST, a Slack-compatible POST, or an e-mail
/// (<see cref="EmailSender"/>). Any 2xx answer is a success. It is worth another attempt only when the receiver provably
/// did not get it (no connection, refused before any of the body was written) or answered that it failed for now (5xx,
/// 429, 408, with its Retry-After); another answer (3xx, 4xx) fails it for good; and once the body was written, a
/// timeout or a broken connection leaves it unknown — never sent again by itself (<see cref="AttemptTrace"/>). Error
/// texts never hold a secret (the signing secret, a Slack URL's path, an SMTP password): they are scrubbed before they
/// are stored or logged.
/// </summary>
internal sealed class NotificationSender(NotificationSettings settings, NotificationSecretProtector protector, EmailSender email, Uri? publicUrl,
    TimeProvider clock) : IDisposable
{
    public const string SignatureHeader = "X-OdooOps-Signature-256", SignatureV2Header = "X-OdooOps-Signature-v2", EventHeader = "X-OdooOps-Event",
        EventIdHeader = "X-OdooOps-Event-Id", DeliveryHeader = "X-OdooOps-Delivery", TimestampHeader = "X-OdooOps-Timestamp";
    public static readonly string UserAgent = $"OdooOps-Notifications/{typeof(NotificationSender).Assembly.GetName().Version?.ToString(3) ?? "1"}";

    // No timeout of its own: the attempt's deadline (below) covers the whole exchange.
    readonly HttpClient _http = new(OutboundGuard.Handler(settings)) { Timeout = System.Threading.Timeout.InfiniteTimeSpan };

    /// <param name="budget">What is left of the delivery's lease for this attempt: it never runs past it.</param>
    /// <param name="stopping">The server stops: an attempt that has not written anything yet ends at once (released); one that has runs to its deadline.</param>
    public async Task<DeliveryResult> SendAsync(ClaimedDelivery d, TimeSpan budget, CancellationToken stopping)
    {
        var started = Stopwatch.GetTimestamp();
        var secret = protector.Unprotect(d.OrgId, d.Secret);
        // One attempt's whole time, the answer's body included: a receiver that sends its answer a byte at a time (or
        // never) must not hold the worker and every tenant's deliveries — nor outlive the lease.
        var deadline = d.Kind == "email" ? settings.AttemptDeadline : settings.Timeout;
        if (budget < deadline) deadline = budget;
        var trace = new AttemptTrace();
        using var attempt = new CancellationTokenSource(deadline);
        using var onStop = stopping.Register(() => { if (trace.Stop()) attempt.Cancel(); });
        var ct = attempt.Token;
        try
        {
            var message = new NotificationMessage(d, publicUrl);
            return d.Kind switch
            {
                "webhook" or "slack" when secret is null => new(DeliveryOutcome.Retry, null, NoSecret(d), Stopwatch.GetElapsedTime(started)),
                "webhook" => await PostAsync(d.Target, message.WebhookBody(), d, secret, trace, started, ct),
                "slack" => await PostAsync(secret!, message.SlackBody(), d, null, trace, started, ct),
                "email" => await email.SendAsync(d, message, secret, trace, started, deadline, ct),
                _ => new(DeliveryOutcome.Failed, null, $"Unknown channel kind {d.Kind}.", Stopwatch.GetElapsedTime(started)),
            };
        }
        catch (Exception e)
        {
            var reason = e is OperationCanceledException
                ? trace.Written ? $"no answer within {deadline.TotalSeconds:0} s" : $"no connection within {deadline.TotalSeconds:0} s"
                : trace.Written ? $"then the connection failed ({Describe(e)})" : Describe(e);
            return trace.NoAnswer(Scrub(reason, secret), started);
        }
    }

    /// <summary>Why a webhook or Slack channel has no secret to send with: none was set (a demo channel), or it cannot be opened.</summary>
    static string NoSecret(ClaimedDelivery d) => (d.Kind, d.Secret) switch
    {
        ("webhook", null) => "The channel has no signing secret set: set one (secret).",
        ("slack", null) => "The channel has no webhook URL set: set it (url).",
        ("webhook", _) => "The channel's signing secret cannot be read (the server's keys changed?): set it again.",
        _ => "The channel's webhook URL cannot be read (the server's keys changed?): set it again.",
    };

    /// <summary>An exception's message with its cause's, when the outer one says only that sending failed.</summary>
    public static string Describe(Exception e) =>
        e.InnerException is { } inner && !e.Message.Contains(inner.Message, StringComparison.Ordinal) ? $"{e.Message} {inner.Message}" : e.Message;

    async Task<DeliveryResult> PostAsync(string url, byte[] body, ClaimedDelivery d, string? signingSecret, AttemptTrace trace, long started,
        CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new TracedContent(body, trace) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.UserAgent.ParseAdd(UserAgent);
        if (signingSecret is not null)
        {
            request.Headers.Add(EventHeader, d.Event);
            request.Headers.Add(EventIdHeader, d.EventId.ToString());
            request.Headers.Add(DeliveryHeader, d.DeliveryId.ToString());
            var timestamp = clock.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
            request.Headers.Add(TimestampHeader, timestamp);
            request.Headers.Add(SignatureHeader, Signature(signingSecret, body));
            request.Headers.Add(SignatureV2Header, SignatureV2(signingSecret, timestamp, body));
        }
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        var code = (int)response.StatusCode;
        if (response.IsSuccessStatusCode) return new DeliveryResult(DeliveryOutcome.Delivered, code, null, Stopwatch.GetElapsedTime(started));
        // The status is the receiver's answer; its body only explains it, and one that does not come changes nothing.
        var text = await ReadSomeAsync(response, ct);
        var error = code is >= 300 and < 400 ? $"HTTP {code}: redirects are not followed; use the final URL" : $"HTTP {code}{(text.Length > 0 ? ": " + text : "")}";
        var transient = code is >= 500 or 429 or 408;
        return new DeliveryResult(transient ? DeliveryOutcome.Retry : DeliveryOutcome.Failed, code, Scrub(error, signingSecret, d.Kind == "slack" ? url : null),
            Stopwatch.GetElapsedTime(started), transient ? RetryAfter(response, clock.GetUtcNow()) : null);
    }

    /// <summary>GitHub's form: "sha256=" and the lower-case hex HMAC-SHA256 of the raw body, keyed with the secret's UTF-8 bytes.</summary>
    public static string Signature(string secret, byte[] body) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));

    /// <summary>
    /// The timestamped form: "sha256=" and the hex HMAC-SHA256 of the timestamp header's value, ".", and the raw body —
    /// a receiver that checks it and refuses old timestamps cannot be sent a captured delivery again later (a replay).
    /// </summary>
    public static string SignatureV2(string secret, string timestamp, byte[] body) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), (byte[])[.. Encoding.ASCII.GetBytes(timestamp + "."), .. body]));

    /// <summary>Retry-After as seconds or an HTTP date, when the receiver sent one.</summary>
    static TimeSpan? RetryAfter(HttpResponseMessage response, DateTimeOffset now) =>
        response.Headers.RetryAfter switch
        {
            { Delta: { } delta } => delta,
            { Date: { } date } => date > now ? date - now : TimeSpan.Zero,
            _ => null,
        };

    static async Task<string> ReadSomeAsync(HttpResponseMessage response, CancellationToken ct)
    {
        try
        {
            var buffer = new char[300];
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ct));
            var read = await reader.ReadBlockAsync(buffer, ct);
            return new string(buffer, 0, read).ReplaceLineEndings(" ").Trim();
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or HttpRequestException)
        {
            return "";
        }
    }

    /// <summary>Takes secrets (and a secret URL's path) out of a text that goes to the log or the database.</summary>
    public static string Scrub(string text, params string?[] secrets)
    {
        foreach (var secret in secrets.Where(s => s is { Length: >= 4 }))
        {
            text = text.Replace(secret!, "***");
            if (Uri.TryCreate(secret, UriKind.Absolute, out var uri) && uri.PathAndQuery.Length > 1)
                text = text.Replace(uri.PathAndQuery, "/***").Replace(Uri.UnescapeDataString(uri.PathAndQuery), "/***");
        }
        return text.Length > 2000 ? text[..2000] : text;
    }

    public void Dispose() => _http.Dispose();
}
