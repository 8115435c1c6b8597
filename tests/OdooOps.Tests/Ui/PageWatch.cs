using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace OdooOps.Tests.Ui;

/// <summary>
/// What a page's requests did, kept so that a wait that times out can say why: on a loaded machine a page has
/// (rarely) reached its address without its load event, and Playwright's own message says only "NetworkIdle".
/// Every page the browser tests open is watched (BrowserWorld.NewPageAsync); the waits below add what was seen.
/// </summary>
public static class PageWatch
{
    sealed class Log
    {
        public readonly Stopwatch Clock = Stopwatch.StartNew();
        public readonly ConcurrentQueue<string> Events = new();
        public void Add(string what)
        {
            Events.Enqueue($"{Clock.Elapsed.TotalSeconds,7:F2}s {what}");
            while (Events.Count > 40) Events.TryDequeue(out _);
        }
    }

    static readonly ConditionalWeakTable<IPage, Log> Logs = new();

    public static IPage Watch(IPage page)
    {
        var log = Logs.GetValue(page, _ => new Log());
        page.Request += (_, r) => log.Add($"request  {r.Method} {r.Url}");
        page.Response += (_, r) => log.Add($"response {r.Status} {r.Url}");
        page.RequestFinished += (_, r) => log.Add($"finished {r.Url}");
        page.RequestFailed += (_, r) => log.Add($"failed   {r.Url}: {r.Failure}");
        page.FrameNavigated += (_, f) => { if (f.ParentFrame is null) log.Add($"navigated {f.Url}"); };
        page.DOMContentLoaded += (_, _) => log.Add("domcontentloaded");
        page.Load += (_, _) => log.Add("load");
        return page;
    }

    /// <summary><see cref="IPage.WaitForURLAsync(string, PageWaitForURLOptions?)"/>, explaining a timeout.</summary>
    public static Task WaitForPageAsync(this IPage page, string url) => ExplainAsync(page, () => page.WaitForURLAsync(url));

    /// <summary><see cref="IPage.WaitForURLAsync(Regex, PageWaitForURLOptions?)"/>, explaining a timeout.</summary>
    public static Task WaitForPageAsync(this IPage page, Regex url) => ExplainAsync(page, () => page.WaitForURLAsync(url));

    static async Task ExplainAsync(IPage page, Func<Task> wait)
    {
        try { await wait(); }
        catch (TimeoutException e) { throw new TimeoutException($"{e.Message}\n{await DescribeAsync(page)}", e); }
    }

    public static async Task<string> DescribeAsync(IPage page)
    {
        string state;
        try { state = await page.EvaluateAsync<string>("() => document.readyState + ', ' + document.documentElement.outerHTML.length + ' chars'"); }
        catch (PlaywrightException e) { state = "unknown: " + e.Message; }
        var events = Logs.TryGetValue(page, out var log) ? string.Join("\n", log.Events) : "(not watched)";
        return $"page {page.Url}, document {state}; its last requests:\n{events}";
    }
}
