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

    /// <summary>
    /// Waits until the page is at <paramref name="url"/> (a glob: <c>**</c> anything, <c>*</c> anything but '/') and its
    /// document is loaded, explaining a timeout. Not Playwright's WaitForURLAsync: when the address already matches, it
    /// checks the frame's load state and then subscribes to its next change, and a load that lands between the two is
    /// never seen (caught here: the page's load came 0.01 s after its address, the wait then sat for 60 s). Both
    /// conditions are polled instead.
    /// </summary>
    public static Task WaitForPageAsync(this IPage page, string url) => WaitForAsync(page, url, GlobRegex(url));

    /// <summary><see cref="WaitForPageAsync(IPage, string)"/> for an address matching <paramref name="url"/>.</summary>
    public static Task WaitForPageAsync(this IPage page, Regex url) => WaitForAsync(page, url.ToString(), url);

    static readonly TimeSpan Patience = TimeSpan.FromSeconds(60); // a hang guard on a loaded machine, not a speed check

    static async Task WaitForAsync(IPage page, string wanted, Regex url)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (url.IsMatch(page.Url) && await ReadyStateAsync(page) == "complete") return;
            if (clock.Elapsed > Patience)
                throw new TimeoutException($"The page did not reach {wanted} (loaded) within {Patience.TotalSeconds} s.\n{await DescribeAsync(page)}");
            await Task.Delay(25);
        }
    }

    static async Task<string?> ReadyStateAsync(IPage page)
    {
        try { return await page.EvaluateAsync<string>("() => document.readyState"); }
        catch (PlaywrightException) { return null; } // the document went away under the call: a navigation is under way
    }

    static Regex GlobRegex(string glob)
    {
        var pattern = new System.Text.StringBuilder("^");
        for (var i = 0; i < glob.Length; i++)
        {
            if (glob[i] == '*' && i + 1 < glob.Length && glob[i + 1] == '*') { pattern.Append(".*"); i++; }
            else if (glob[i] == '*') pattern.Append("[^/]*");
            else pattern.Append(Regex.Escape(glob[i].ToString()));
        }
        return new Regex(pattern.Append('$').ToString());
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
