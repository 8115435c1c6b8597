using System.Text.Json;
using Microsoft.Playwright;

namespace OdooOps.Tests.Ui;

/// <summary>
/// The keyboard tests' tools: the in-page probe (keyboard.js, put in every page of a context before the page's own
/// scripts) and a walk through a page with Tab that says what was never reached and what showed no focus.
/// </summary>
public static class Keyboard
{
    static readonly string Probe = ReadProbe();

    static string ReadProbe()
    {
        using var stream = typeof(Keyboard).Assembly.GetManifestResourceStream("keyboard.js")
                           ?? throw new InvalidOperationException("keyboard.js is not embedded in the test assembly.");
        return new StreamReader(stream).ReadToEnd();
    }

    /// <summary>Puts the probe in every page the context opens from now on.</summary>
    public static Task InstallAsync(IPage page) => page.Context.AddInitScriptAsync(Probe);

    /// <summary>The demo's admin on <paramref name="path"/> at that size, the probe in place (the demo loaded first if need be).</summary>
    public static async Task<IPage> OpenAsync(BrowserWorld world, string path, int width = 1280, int height = 900)
    {
        await ConsolePages.DemoAsync(world);
        var page = await ConsolePages.AdminPageAsync(world, width, height);
        await InstallAsync(page);
        await page.GotoAsync(path);
        return page;
    }

    sealed record Target(string Id, string Group, string What);
    sealed record Setup(Target[] Reach, string[] Positive, string[] ClickOnly);
    sealed record Step(string? Id, string? What, bool Indicator, string? Clipped, string? Covered);

    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    static async Task<T> CallAsync<T>(IPage page, string script) =>
        (await page.EvaluateAsync<JsonElement>(script)).Deserialize<T>(Json)!;

    /// <summary>
    /// Presses Tab through the whole page (until the focus comes round again, at most a bounded number of times) and
    /// returns every problem found, each naming the element: a visible control Tab never reached, a positive tabindex, a
    /// click listener on something that cannot take the focus, a focused element with no visible indicator, or one whose
    /// indicator an overflowing ancestor cuts or a fixed bar covers.
    /// </summary>
    /// <param name="pointerOnly">Elements a library gives a click listener for a pointer-only nicety the page offers
    /// another way, with the reason (matched against the element's description).</param>
    public static async Task<List<string>> WalkAsync(IPage page, IReadOnlyDictionary<string, string>? pointerOnly = null)
    {
        var setup = await CallAsync<Setup>(page, "() => window.__kb.setup()");
        var problems = new List<string>();
        problems.AddRange(setup.Positive.Select(p => $"positive tabindex: {p}"));
        bool Exempt(string what) => pointerOnly?.Keys.Any(what.StartsWith) == true;
        problems.AddRange(setup.ClickOnly.Where(c => !Exempt(c)).Select(c => $"click listener, not focusable: {c}"));

        var reached = new HashSet<string>();
        var reported = new HashSet<string>();
        string? first = null;
        var outside = 0;
        for (var i = 0; i < setup.Reach.Length * 2 + 30; i++)
        {
            await page.Keyboard.PressAsync("Tab");
            var step = await CallAsync<Step>(page, "() => window.__kb.step()");
            if (step.Id is null && step.What is null)
            {
                // The focus left the page (past its last control); twice in a row means there is nothing to reach.
                if (++outside > 2) break;
                continue;
            }
            outside = 0;
            var key = step.Id ?? step.What!;
            if (key == first) break;
            first ??= key;
            if (step.Id is not null) reached.Add(step.Id);
            if (!reported.Add(key)) continue;
            if (!step.Indicator) problems.Add($"no visible focus indicator: {step.What}");
            if (step.Clipped is { } clip) problems.Add($"focus indicator cut by {clip}: {step.What}");
            if (step.Covered is { } cover) problems.Add($"focused element covered by {cover}: {step.What}");
        }
        var groups = setup.Reach.Where(t => reached.Contains(t.Id)).Select(t => t.Group).ToHashSet();
        problems.AddRange(setup.Reach.Where(t => !groups.Contains(t.Group) && !Exempt(t.What)).DistinctBy(t => t.Group).Select(t => $"not reached by Tab: {t.What}"));
        return problems;
    }

    /// <summary>Presses Tab until the focused element matches <paramref name="selector"/> (at most <paramref name="limit"/> times).</summary>
    public static async Task TabToAsync(IPage page, string selector, int limit = 400)
    {
        for (var i = 0; i < limit; i++)
        {
            await page.Keyboard.PressAsync("Tab");
            if (await page.EvaluateAsync<bool>("s => document.activeElement?.matches(s) ?? false", selector)) return;
        }
        throw new InvalidOperationException($"Tab never reached {selector} ({limit} presses); the focus is on {await FocusedAsync(page)}.");
    }

    /// <summary>The focused element, described (tag, id, classes, href, name).</summary>
    public static Task<string> FocusedAsync(IPage page) =>
        page.EvaluateAsync<string>("() => document.activeElement ? window.__kb?.describe(document.activeElement) ?? document.activeElement.outerHTML.slice(0, 120) : 'nothing'");

    /// <summary>True when the focused element matches the selector.</summary>
    public static Task<bool> FocusIsAsync(IPage page, string selector) =>
        page.EvaluateAsync<bool>("s => document.activeElement?.matches(s) ?? false", selector);
}
