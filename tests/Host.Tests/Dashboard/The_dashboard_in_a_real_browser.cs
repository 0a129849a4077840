// Over 200 lines: each test is one user journey through the page (sign-in, panels, time travel, lineage, faults);
// they share one browser and one demo host.
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using ComputeLedger.Host.Tests.Faults;
using ComputeLedger.Host.Tests.Infrastructure;
using Microsoft.Playwright;
using Shouldly;
using static Microsoft.Playwright.Assertions;

namespace ComputeLedger.Host.Tests.Dashboard;

/// <summary>
/// What an analyst does at /dashboard, in headless Chromium against a host with the demo data: sign in, read the six
/// panels, travel back in known time, open a figure's lineage; and what they see when the key or the API fails.
/// </summary>
public class The_dashboard_in_a_real_browser(DashboardSite site) : IClassFixture<DashboardSite>
{
    private static string Shot(string name) => Path.Combine(DashboardSite.Screenshots, $"{name}.png");

    private static async Task<IPage> SignedIn(IPage page, string key = "dev-analyst")
    {
        await page.GotoAsync("/");
        await page.GetByLabel("API key").FillAsync(key);
        await page.GetByLabel("API key").PressAsync("Enter");
        await Expect(page.Locator("#dashboard-view")).ToBeVisibleAsync();
        // Every panel drawn once (with figures, an empty state or an error state).
        await page.WaitForFunctionAsync("() => !!document.body.dataset.refreshed");
        return page;
    }

    private static async Task Refreshed(IPage page, string before) =>
        await page.WaitForFunctionAsync("b => document.body.dataset.refreshed && document.body.dataset.refreshed !== b", before);

    [Fact]
    public async Task An_analyst_signs_in_with_the_keyboard_and_the_key_stays_out_of_the_url_and_in_this_tab_only()
    {
        var page = await site.NewPage();
        await page.GotoAsync("/");
        page.Url.ShouldEndWith("/dashboard/");
        await Expect(page.GetByLabel("API key")).ToBeFocusedAsync();
        await page.Keyboard.TypeAsync("dev-analyst");
        await page.Keyboard.PressAsync("Enter");

        await Expect(page.Locator("#dashboard-view")).ToBeVisibleAsync();
        page.Url.ShouldNotContain("dev-analyst");
        (await page.EvaluateAsync<string>("() => sessionStorage.getItem('computeledger.apiKey')")).ShouldBe("dev-analyst");
        (await page.EvaluateAsync<int>("() => localStorage.length")).ShouldBe(0);
        await Expect(page.Locator("#panel-deals")).ToHaveAttributeAsync("data-state", "ready");

        await page.ReloadAsync();
        await Expect(page.Locator("#dashboard-view")).ToBeVisibleAsync();

        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await Expect(page.GetByLabel("API key")).ToBeVisibleAsync();
        (await page.EvaluateAsync<string?>("() => sessionStorage.getItem('computeledger.apiKey')")).ShouldBeNull();

        // A new tab does not inherit the key.
        var other = await site.NewPage();
        await other.GotoAsync("/dashboard/");
        await Expect(other.GetByLabel("API key")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task A_wrong_key_is_refused_with_a_clear_message()
    {
        var page = await site.NewPage();
        await page.GotoAsync("/dashboard/");
        await page.GetByLabel("API key").FillAsync("not-a-key");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();

        await Expect(page.Locator("#signin-message")).ToContainTextAsync("not known to this ledger");
        page.Url.ShouldNotContain("not-a-key");
        await Expect(page.Locator("#dashboard-view")).ToBeHiddenAsync();
        (await page.EvaluateAsync<string?>("() => sessionStorage.getItem('computeledger.apiKey')")).ShouldBeNull();
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Shot("wrong-key") });

        await page.GetByLabel("API key").FillAsync("dev-ingest");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.Locator("#signin-message")).ToContainTextAsync("analyst or admin key");
    }

    [Fact]
    public async Task Every_panel_renders_the_demo_figures()
    {
        var page = await SignedIn(await site.NewPage());

        foreach (var panel in new[] { "deals", "tranches", "burn", "chips", "revenue", "restatements" })
        {
            await Expect(page.Locator($"#panel-{panel}")).ToHaveAttributeAsync("data-state", "ready");
        }

        var deals = page.Locator("#panel-deals");
        var anthropic = deals.Locator("table").First.Locator("tr", new() { HasText = "Amazon → Anthropic" });
        await Expect(anthropic).ToContainTextAsync("$25.0B");
        await Expect(anthropic.Locator("td").Nth(3)).ToHaveTextAsync("$5.0B");
        await Expect(anthropic.Locator("td").Nth(5)).ToHaveTextAsync("$20.0B");
        await Expect(deals.Locator("table").First.Locator("tr", new() { HasText = "Amazon → OpenAI" })).ToContainTextAsync("declined");
        await Expect(deals.Locator("table").Nth(1)).ToContainTextAsync("Amazon");

        var tranches = page.Locator("#panel-tranches");
        await page.GetByLabel("Deal", new() { Exact = true }).First.SelectOptionAsync("amazon-anthropic");
        await Expect(tranches.Locator("caption")).ToContainTextAsync("$25.0B headline");
        await Expect(tranches.Locator("caption")).ToContainTextAsync("$20.0B locked");
        await Expect(tranches.Locator("tbody tr")).Not.ToHaveCountAsync(0);

        var burn = page.Locator("#panel-burn");
        await Expect(burn.Locator("table")).ToContainTextAsync("Committed");
        await Expect(burn.Locator("canvas")).ToHaveAttributeAsync("aria-label", new System.Text.RegularExpressions.Regex("consumed of \\$[0-9.]+[KMB] committed"));

        var chips = page.Locator("#panel-chips");
        await Expect(chips.Locator("table", new() { HasText = "Chip economics" })).ToContainTextAsync("Trainium2");
        (await chips.Locator("details table tbody tr").CountAsync()).ShouldBeGreaterThan(0);
        (await chips.Locator("details table tbody tr").First.TextContentAsync())!.ShouldMatch(".*chip-hours.*\\$[0-9.]+[KMB]?.*");

        var revenue = page.Locator("#panel-revenue");
        await Expect(revenue.Locator("table", new() { HasText = "Growth per year" })).ToContainTextAsync("AWS");
        (await revenue.Locator("details table tbody tr").CountAsync()).ShouldBeGreaterThan(0);

        await Expect(page.Locator("#panel-restatements caption")).ToContainTextAsync("figures restated between");

        foreach (var panel in new[] { "deals", "tranches", "burn", "chips", "revenue", "restatements" })
        {
            await page.Locator($"#panel-{panel}").ScreenshotAsync(new LocatorScreenshotOptions { Path = Shot($"panel-{panel}") });
        }

        await page.EvaluateAsync("() => window.scrollTo(0, 0)");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Shot("overview") });
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Shot("dashboard"), FullPage = true });
    }

    [Fact]
    public async Task Moving_known_time_back_shows_the_figure_as_it_was_reported_then()
    {
        var ct = TestContext.Current.CancellationToken;
        using var api = site.Host.Client("dev-analyst");
        var spend = (await api.GetFromJsonAsync<JsonObject>("/api/spend/chips", ct))!["rows"]!.AsArray();
        var first = spend.Min(r => r!["month"]!.GetValue<string>())!;
        var last = spend.Max(r => r!["month"]!.GetValue<string>())!;
        var knownFrom = new DateOnly(int.Parse(last[..4]), int.Parse(last[5..]), 1).AddDays(-1).ToString("yyyy-MM-dd");
        var changed = (await api.GetFromJsonAsync<JsonObject>($"/api/restatements?knownFrom={knownFrom}", ct))!["restatements"]!.AsArray()
            .Where(r => r!["figure"]!.GetValue<string>() == "chipSpend")
            // A figure that was reported then and differs now by the most, relative to itself, so it shows at the page's precision.
            .OrderByDescending(r => r!["old"]!["amount"]!.GetValue<decimal>() != 0)
            .ThenByDescending(r => Math.Abs(r!["new"]!["amount"]!.GetValue<decimal>() - r["old"]!["amount"]!.GetValue<decimal>())
                / Math.Max(1m, Math.Abs(r["new"]!["amount"]!.GetValue<decimal>())))
            .First()!;
        var (month, chip, provider) = (changed["month"]!.GetValue<string>(), changed["chip"]!.GetValue<string>(), changed["provider"]!.GetValue<string>());
        month.CompareTo(first).ShouldBeGreaterThanOrEqualTo(0);

        var page = await SignedIn(await site.NewPage());
        var label = DateTime.ParseExact(month, "yyyy-MM", null).ToString("MMM yyyy", System.Globalization.CultureInfo.InvariantCulture);
        ILocator Row() => page.Locator("#panel-chips details table tbody tr").Filter(new() { HasText = label }).Filter(new() { HasText = chip })
            .Filter(new() { HasText = provider });
        var now = await Row().First.TextContentAsync();

        // Known time back to the earlier report, with the date control the slider writes to.
        var before = await page.EvaluateAsync<string>("() => document.body.dataset.refreshed");
        await page.GetByLabel("Known at").FillAsync(knownFrom);
        await page.GetByLabel("Known at").DispatchEventAsync("change");
        await Refreshed(page, before);
        page.Url.ShouldContain($"knownAt={knownFrom}");
        page.Url.ShouldNotContain("dev-analyst");
        var then = await Row().CountAsync() == 0 ? "(not yet reported)" : await Row().First.TextContentAsync();
        then.ShouldNotBe(now, $"{chip} at {provider} in {month} was restated after {knownFrom}");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Shot("known-at-back"), FullPage = false });

        // The slider over known time: dragged to its start (Home), every panel redraws on the earliest known date.
        before = await page.EvaluateAsync<string>("() => document.body.dataset.refreshed");
        await page.GetByLabel("Known time").FocusAsync();
        await page.Keyboard.PressAsync("Home");
        await Refreshed(page, before);
        (await page.GetByLabel("Known at").InputValueAsync()).ShouldStartWith(first);
        page.Url.ShouldContain($"knownAt={first}");

        // A shared link with the axes opens the same view.
        var shared = await site.NewPage();
        await SignedIn(shared);
        await shared.GotoAsync($"/dashboard/?knownAt={knownFrom}");
        await Expect(shared.GetByLabel("Known at")).ToHaveValueAsync(knownFrom);
    }

    [Fact]
    public async Task Clicking_a_figure_opens_the_events_behind_it_page_by_page()
    {
        var page = await SignedIn(await site.NewPage());
        await page.Locator("#panel-chips details summary").ClickAsync();
        var figure = page.Locator("#panel-chips details table tbody .figure").First;
        await figure.FocusAsync();
        await page.Keyboard.PressAsync("Enter");

        var dialog = page.Locator("#lineage");
        await Expect(dialog).ToBeVisibleAsync();
        await Expect(page.Locator("#lineage-summary")).ToContainTextAsync("entries");
        var summary = (await page.Locator("#lineage-summary").TextContentAsync())!;
        var entries = long.Parse(System.Text.RegularExpressions.Regex.Match(summary, "from ([0-9,]+) entries").Groups[1].Value.Replace(",", ""));
        entries.ShouldBeGreaterThan(0);
        var rows = dialog.Locator("tbody tr");
        // 20 entries a page: the demo's month figures are made of more, so the second page is always there.
        entries.ShouldBeGreaterThan(20);
        await Expect(rows).ToHaveCountAsync(20);
        await page.GetByRole(AriaRole.Button, new() { Name = "Load more" }).ClickAsync();
        await Expect(rows).ToHaveCountAsync((int)Math.Min(entries, 40));
        await Expect(page.Locator("#lineage-summary")).ToContainTextAsync($"showing {Math.Min(entries, 40)}");

        await dialog.ScreenshotAsync(new LocatorScreenshotOptions { Path = Shot("lineage-spend") });
        await page.Keyboard.PressAsync("Escape");
        await Expect(dialog).ToBeHiddenAsync();

        await page.GetByLabel("Deal", new() { Exact = true }).First.SelectOptionAsync("amazon-anthropic");
        await page.Locator("#panel-tranches tbody .figure").First.ClickAsync();
        await Expect(page.Locator("#lineage-summary")).ToContainTextAsync("events");
        await Expect(dialog.Locator("tbody")).ToContainTextAsync("commitment");
    }

    [Fact]
    public async Task An_empty_ledger_shows_empty_panels_then_usage_arrives_live_and_a_stopped_api_is_said_so()
    {
        var ct = TestContext.Current.CancellationToken;
        // A host of its own on a database of its own: the demo's host keeps serving the other tests.
        await using var host = await LedgerProcess.Start(await site.NewDatabase(), LedgerProcess.FreePort(), ct);
        var page = await SignedIn(await site.NewPage(host));
        await Expect(page.Locator("#panel-deals .state")).ToHaveTextAsync("No deals are recorded at these axes.");
        await Expect(page.Locator("#panel-chips .state")).ToHaveTextAsync("No usage is recorded at these axes.");
        await Expect(page.Locator("#panel-revenue .state")).ToHaveTextAsync("No revenue is recorded at these axes.");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Shot("empty") });

        // Usage arrives while the page is open: the next poll shows it, with the projection's lag in the header.
        using (var admin = host.Client("dev-admin"))
        {
            await Usage.UsageTest.ArrangeDealAndRates(admin);
            using var ingest = host.Client("dev-ingest");
            (await ingest.PostJson("/api/usage", Usage.UsageTest.Batch(Usage.UsageTest.Record("live-1", chipHours: 1_000_000m)))).Code.ShouldBe(200);
        }

        await Expect(page.Locator("#panel-chips details table tbody tr").First).ToContainTextAsync("1.0M chip-hours");
        await Expect(page.Locator("#panel-chips details table tbody tr").First).ToContainTextAsync("$3.5M");
        await Expect(page.Locator("#lag")).ToContainTextAsync("Live");

        await host.Kill();
        await page.GetByRole(AriaRole.Button, new() { Name = "Back to now" }).ClickAsync();

        await Expect(page.Locator("#offline")).ToBeVisibleAsync();
        await Expect(page.Locator("#offline")).ToContainTextAsync("not answering");
        await Expect(page.Locator("#panel-chips .state")).ToContainTextAsync("Could not load");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Shot("api-stopped") });
    }

    [Fact]
    public async Task At_a_phone_width_nothing_spills_sideways()
    {
        var page = await SignedIn(await site.NewPage(width: 390, height: 844));
        (await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth")).ShouldBeTrue();
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Shot("phone"), FullPage = false });
    }
}
