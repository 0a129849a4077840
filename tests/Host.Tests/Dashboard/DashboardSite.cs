using System.Net.Http.Json;
using System.Text.Json.Nodes;
using ComputeLedger.Host.Tests.Faults;
using ComputeLedger.Host.Tests.Infrastructure;
using Microsoft.Playwright;

namespace ComputeLedger.Host.Tests.Dashboard;

/// <summary>
/// The ledger as an analyst meets it: the Release host as its own process with the demo data (as ./run.sh serves it), on a
/// database of its own, and Debian's Chromium driven headless by Playwright. scripts/chromium.sh installs the browser
/// (test.sh and CI call it); without it these tests fail, they are never skipped.
/// </summary>
public sealed class DashboardSite(LedgerFixture fixture) : IAsyncLifetime
{
    public LedgerProcess Host { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    public string Database { get; private set; } = "";

    private IPlaywright? _playwright;

    /// <summary>Screenshots go under the test output (TestResults/dashboard at the repository root).</summary>
    public static string Screenshots { get; } = Path.Combine(RepositoryRoot(), "TestResults", "dashboard");

    /// <summary>A fresh, empty database on the test server, for a host of a test's own.</summary>
    public Task<string> NewDatabase() => fixture.NewDatabase();

    public static string ChromiumPath => Environment.GetEnvironmentVariable("LEDGER_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    public async ValueTask InitializeAsync()
    {
        var ct = TestContext.Current.CancellationToken;
        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException($"No Chromium at {ChromiumPath}: run scripts/chromium.sh (test.sh does) or set LEDGER_CHROMIUM.");
        }

        Directory.CreateDirectory(Screenshots);
        Database = await fixture.NewDatabase();
        Host = await LedgerProcess.Start(Database, LedgerProcess.FreePort(), ct,
            new Dictionary<string, string> { ["Ledger__SeedDemoData"] = "true" }, TimeSpan.FromMinutes(10));
        await CaughtUp(Host, ct);

        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = ChromiumPath, Headless = true });
        Assertions.SetDefaultExpectTimeout(60_000);
    }

    /// <summary>A fresh browser context (its own session storage) on the site, at a desktop or a phone's width.</summary>
    public async Task<IPage> NewPage(LedgerProcess? host = null, int width = 1280, int height = 900)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = (host ?? Host).Address.ToString(),
            ViewportSize = new ViewportSize { Width = width, Height = height },
            Locale = "en-US",
            TimezoneId = "UTC",
        });
        context.SetDefaultTimeout(60_000);
        return await context.NewPageAsync();
    }

    /// <summary>Waits until the async projections folded every event, so the page shows the whole demo.</summary>
    public static async Task CaughtUp(LedgerProcess host, CancellationToken ct)
    {
        using var client = host.Client("dev-analyst");
        var deadline = DateTime.UtcNow.AddMinutes(5);
        while (true)
        {
            var lag = (await client.GetFromJsonAsync<JsonObject>("/api/spend/chips", ct))!["lag"]!;
            var revenue = (await client.GetFromJsonAsync<JsonObject>("/api/revenue/providers", ct))!["lag"]!;
            if ((long)lag["lastProcessedSequence"]! >= (long)lag["highWaterMark"]! && (long)revenue["lastProcessedSequence"]! >= (long)revenue["highWaterMark"]!)
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"projections did not catch up with the demo within 5 minutes: {lag}");
            }

            await Task.Delay(250, ct);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        _playwright?.Dispose();
        if (Host is not null)
        {
            await Host.DisposeAsync();
        }
    }

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "ComputeLedger.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? AppContext.BaseDirectory;
    }
}
