using ComputeLedger.Host.Tests.Infrastructure;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Shouldly;

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
    }
}
