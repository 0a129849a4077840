using ComputeLedger.Host.Tests.Infrastructure;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Shouldly;
using Marten.Events;

namespace ComputeLedger.Host.Tests.Infrastructure;

public class Demo_data(LedgerFixture fixture)
{
    [Fact]
    public async Task Loads_the_articles_deals_on_the_first_start_only()
    {
        var ct = TestContext.Current.CancellationToken;
        var database = $"ledger_demo_{Guid.NewGuid():N}";
        await using (var admin = new NpgsqlConnection(fixture.ConnectionString))
        {
            await admin.OpenAsync(ct);
            await using var create = new NpgsqlCommand($"create database {database}", admin);
            await create.ExecuteNonQueryAsync(ct);
        }

        var connection = new NpgsqlConnectionStringBuilder(fixture.ConnectionString) { Database = database }.ConnectionString;
        await (await LedgerFixture.StartHost(connection, seedDemoData: true)).DisposeAsync();
        await using var second = await LedgerFixture.StartHost(connection, seedDemoData: true);

        var client = second.Server.CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", "dev-analyst");
        var list = (await client.GetJson("/api/commitments")).Json.AsArray();
        list.Select(c => c!["commitmentId"]!.GetValue<string>()).ShouldBe(
            ["amazon-anthropic", "amazon-openai", "google-anthropic", "microsoft-openai", "oracle-openai"]);

        var anthropic = (await client.GetJson("/api/commitments/amazon-anthropic/eligibility")).Json;
        anthropic["headline"].Amount().ShouldBe(25_000_000_000m);
        anthropic["released"].Amount().ShouldBe(5_000_000_000m);
        anthropic["eligible"].Amount().ShouldBe(0m);
        anthropic["locked"].Amount().ShouldBe(20_000_000_000m);
        anthropic["headline"]!["currency"]!.GetValue<string>().ShouldBe("USD");

        (await client.GetJson("/api/commitments/amazon-openai/eligibility")).Json["status"]!.GetValue<string>().ShouldBe("Declined");

        await using var session = second.Services.GetRequiredService<IDocumentStore>().QuerySession();
        (await session.Events.FetchStreamAsync("amazon-anthropic", token: ct)).Count.ShouldBe(2);
        (await session.Events.FetchStreamAsync("amazon-openai", token: ct)).Count.ShouldBe(2);

        await ShowsItsHistory(second, client);
    }

    /// <summary>Issue 13's "done when", on the demo: the article's tables, and a history time travel can show.</summary>
    private static async Task ShowsItsHistory(Alba.IAlbaHost host, HttpClient client)
    {
        await host.WaitForNonStaleProjectionDataAsync(TimeSpan.FromSeconds(120));

        // Recorded over time, not in the first second: offered in June 2024, declined in September.
        var offer = await client.GetJson("/api/commitments/amazon-openai/eligibility?knownAt=2024-07-01");
        offer.Json["status"]!.GetValue<string>().ShouldBe("Offered");

        var deals = (await client.GetJson("/api/deals")).Json;
        var anthropic = deals["deals"]!.AsArray().Single(d => d!["commitmentId"]!.GetValue<string>() == "amazon-anthropic")!;
        anthropic["firmShare"]!.GetValue<decimal>().ShouldBe(0.2m);
        anthropic["locked"].Amount().ShouldBe(20_000_000_000m);
        anthropic["roundTrip"]!.GetValue<decimal>().ShouldBeGreaterThan(0m);
        var amazon = deals["byInvestor"]!.AsArray().Single(i => i!["investor"]!.GetValue<string>() == "Amazon")!;
        amazon["declined"].Amount().ShouldBe(50_000_000_000m);

        var economics = (await client.GetJson("/api/economics/chips?from=2025-01&to=2025-12")).Json["rows"]!.AsArray();
        var trainium = economics.Single(r => r!["chip"]!.GetValue<string>() == "Trainium2")!;
        trainium["savingVsH100"]!.GetValue<decimal>().ShouldBeGreaterThan(0m);
        foreach (var inference in new[] { "Inferentia2", "L40S", "TPU-v5e" })
        {
            economics.Single(r => r!["chip"]!.GetValue<string>() == inference)!["costPer1MTokens"].ShouldNotBeNull(inference);
        }

        var yearly = (await client.GetJson("/api/revenue/providers/yearly?from=2024&to=2025")).Json["rows"]!.AsArray();
        yearly.Where(r => r!["year"]!.GetValue<int>() == 2025).ShouldAllBe(r => r!["growthYoY"] != null);

        // Voids and corrections landed in later months: restatements between two demo dates.
        (await client.GetJson("/api/restatements?knownFrom=2025-07-31&knownTo=2025-08-31")).Json["restatements"]!.AsArray().ShouldNotBeEmpty();

        // Eligibility and spend differ between an early and a late known time.
        var early = (await client.GetJson("/api/commitments/google-anthropic/eligibility?knownAt=2025-04-01")).Json;
        var late = (await client.GetJson("/api/commitments/google-anthropic/eligibility?knownAt=2025-12-31")).Json;
        early["released"].Amount().ShouldBeLessThan(late["released"].Amount());
        early["eligible"].Amount().ShouldNotBe(late["eligible"].Amount());
        var spendEarly = (await client.GetJson("/api/spend/chips?from=2025-07&to=2025-07&knownAt=2025-08-01")).Json["rows"]!.AsArray().Sum(r => r!["spend"].Amount());
        var spendLate = (await client.GetJson("/api/spend/chips?from=2025-07&to=2025-07&knownAt=2025-12-31")).Json["rows"]!.AsArray().Sum(r => r!["spend"].Amount());
        spendEarly.ShouldBeLessThan(spendLate);

        // The demo's consumption reaches drawdown marks once the watch runs.
        await ComputeLedger.Host.Commitments.TrackingConsumption.CommitmentWatch.RunOnce(host.Services, NodaTime.SystemClock.Instance.GetCurrentInstant(), TestContext.Current.CancellationToken);
        var marks = (await client.GetJson("/api/commitments/microsoft-openai/eligibility")).Json;
        await using var session = host.Services.GetRequiredService<IDocumentStore>().QuerySession();
        (await session.Events.FetchStreamAsync("microsoft-openai", token: TestContext.Current.CancellationToken))
            .Count(e => e.Data is ComputeLedger.Ledger.Commitments.DrawdownThresholdCrossed).ShouldBeGreaterThan(0, marks.ToJsonString());
    }
}
