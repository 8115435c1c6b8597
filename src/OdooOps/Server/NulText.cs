using System.Collections;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.Primitives;

namespace OdooOps.Server;

/// <summary>
/// PostgreSQL text cannot hold NUL (U+0000): a value carrying one would fail in the database (a 500) after the request
/// was accepted. The one rule for every text input, here: refused before anything runs, with a 400 ValidationProblem
/// naming the field as the client sent it. Applied by <see cref="RefuseNulText{TBuilder}"/> to the JSON bodies of every
/// endpoint, by <see cref="UseNulTextRefusal"/> to query strings, route values and the console's form posts, and by the
/// hand-written readers of the ingest and webhook bodies. Build log lines are the one exception: they carry other
/// programs' output, so NUL there becomes U+FFFD (<c>RunnerProtocol.LogLine</c>), as the reference runner does itself.
/// </summary>
internal static class NulText
{
    const int MaxDepth = 16;

    public static bool In(string? value) => value is not null && value.Contains('\0');

    public static string Message(string field) => $"{field} must not contain NUL characters (\\u0000).";

    /// <summary>Adds the error for <paramref name="field"/> when <paramref name="value"/> holds a NUL.</summary>
    public static Validation Check(this Validation errors, string field, string? value) =>
        In(value) ? errors.Add(field, Message(field)) : errors;

    /// <summary>An endpoint filter for a route group: every argument bound from the JSON body is walked first.</summary>
    public static TBuilder RefuseNulText<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilterFactory((factory, next) =>
        {
            var parameters = factory.MethodInfo.GetParameters();
            int[]? bodies = null; // found at the first call, from the endpoint's metadata (what OpenAPI shows as the body)
            return async invocation =>
            {
                var http = invocation.HttpContext;
                bodies ??= BodyArguments(http.GetEndpoint(), parameters);
                if (bodies.Length == 0) return await next(invocation);
                var json = http.RequestServices.GetRequiredService<Microsoft.Extensions.Options.IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions;
                var errors = new Validation();
                foreach (var i in bodies) Walk(invocation.Arguments[i], "", json, errors, 0);
                return errors.IsValid ? await next(invocation) : Refusal(errors);
            };
        });

    /// <summary>Endpoint metadata: this console endpoint reads its multipart form as a stream (a file far larger than a
    /// buffered form may be) and checks its own text fields; the refusal below leaves its form unread.</summary>
    public sealed record StreamedForm;

    public static TBuilder ReadsOwnForm<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new StreamedForm());

    /// <summary>
    /// Refuses query strings, route values and console form posts that hold a NUL (API bodies: the endpoint filter).
    /// Goes before antiforgery: ASP.NET Core's form reader throws on an encoded NUL itself, which antiforgery would
    /// report as a missing token instead of naming the field.
    /// </summary>
    public static IApplicationBuilder UseNulTextRefusal(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var errors = new Validation();
        foreach (var (key, values) in context.Request.Query)
            foreach (var value in values) errors.Check(Shown(key), value);
        foreach (var (key, value) in context.Request.RouteValues) errors.Check(key, value as string);
        // API bodies are JSON (read by their endpoints, after their own checks); a form there is refused as such.
        if (!ApiProblems.IsApiRequest(context) && context.Request.HasFormContentType && context.GetEndpoint()?.Metadata.GetMetadata<StreamedForm>() is null)
            foreach (var (key, values) in await FormFieldsAsync(context.Request))
                foreach (var value in values) errors.Check(Shown(key), value);
        if (errors.IsValid) await next(context);
        else await Refusal(errors).ExecuteAsync(context);
    });

    /// <summary>
    /// A url-encoded form read with the framework's own form reader and limits (which keeps a decoded NUL), from a
    /// buffered body read again later; a multipart form through the request's form reader (its values are not decoded).
    /// A form that cannot be read (too large, malformed, cut off) is left to the framework's own refusal.
    /// </summary>
    static async Task<IEnumerable<KeyValuePair<string, StringValues>>> FormFieldsAsync(HttpRequest request)
    {
        var ct = request.HttpContext.RequestAborted;
        try
        {
            if (!request.ContentType!.StartsWith("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase))
                return await request.ReadFormAsync(ct);
            var limits = request.HttpContext.RequestServices.GetRequiredService<Microsoft.Extensions.Options.IOptions<Microsoft.AspNetCore.Http.Features.FormOptions>>().Value;
            request.EnableBuffering(limits.MemoryBufferThreshold, limits.BufferBodyLengthLimit);
            using var reader = new Microsoft.AspNetCore.WebUtilities.FormReader(request.Body, System.Text.Encoding.UTF8)
            {
                ValueCountLimit = limits.ValueCountLimit,
                KeyLengthLimit = limits.KeyLengthLimit,
                ValueLengthLimit = limits.ValueLengthLimit,
            };
            var fields = await reader.ReadFormAsync(ct);
            request.Body.Position = 0;
            return fields;
        }
        catch (Exception e) when (e is InvalidDataException or IOException) // BadHttpRequestException is an IOException
        {
            if (request.Body.CanSeek) request.Body.Position = 0;
            return [];
        }
    }

    static IResult Refusal(Validation errors) =>
        TypedResults.ValidationProblem(errors.Errors, "Text cannot contain NUL characters (\\u0000); nothing was changed.");

    /// <summary>A field name as it can be shown (a NUL in a name itself is written \u0000).</summary>
    static string Shown(string name) => name.Replace("\0", "\\u0000");

    static int[] BodyArguments(Endpoint? endpoint, System.Reflection.ParameterInfo[] parameters)
    {
        var types = endpoint?.Metadata.GetOrderedMetadata<IAcceptsMetadata>().Select(a => a.RequestType).OfType<Type>().ToHashSet() ?? [];
        return [.. parameters.Where(p => types.Contains(p.ParameterType)).Select(p => p.Position)];
    }

    /// <summary>Every string inside <paramref name="value"/>, named by its JSON path ("samples[3].metric").</summary>
    static void Walk(object? value, string path, JsonSerializerOptions json, Validation errors, int depth)
    {
        if (value is null || depth > MaxDepth) return;
        if (value is string text)
        {
            errors.Check(path.Length == 0 ? "body" : path, text);
            return;
        }
        var info = json.GetTypeInfo(value.GetType());
        switch (info.Kind)
        {
            case JsonTypeInfoKind.Object:
                foreach (var property in info.Properties)
                    if (property.Get is { } get) Walk(get(value), path.Length == 0 ? property.Name : $"{path}.{property.Name}", json, errors, depth + 1);
                break;
            case JsonTypeInfoKind.Dictionary when value is IDictionary map:
                foreach (DictionaryEntry entry in map)
                {
                    var key = entry.Key.ToString() ?? "";
                    errors.Check(path.Length == 0 ? "body" : path, key);
                    Walk(entry.Value, path.Length == 0 ? Shown(key) : $"{path}.{Shown(key)}", json, errors, depth + 1);
                }
                break;
            case JsonTypeInfoKind.Enumerable:
                var index = 0;
                foreach (var item in (IEnumerable)value) Walk(item, $"{path}[{index++}]", json, errors, depth + 1);
                break;
        }
    }
}
