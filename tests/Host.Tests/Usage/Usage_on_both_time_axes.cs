using ComputeLedger.Host.Tests.Infrastructure;
using Shouldly;

namespace ComputeLedger.Host.Tests.Usage;

/// <summary>Late usage, a void and a correction, each recorded on its own day, read back on both axes.</summary>
public class Usage_on_both_time_axes(LedgerFixture fixture) : UsageTest(fixture)
{
    protected override DateTimeOffset? ArrangedAt => new DateTimeOffset(2025, 1, 2, 9, 0, 0, TimeSpan.Zero);

    private async Task At(string instant, Func<Task<Http.Reply>> act)
    {
        Fixture.Time.Pinned = DateTimeOffset.Parse(instant, System.Globalization.CultureInfo.InvariantCulture);
        var reply = await act();
        Fixture.Time.Pinned = null;
        reply.Code.ShouldBe(200, reply.ToString());
    }

    private async Task<decimal> JulySpend(string query)
    {
        var reply = await Analyst.GetJson($"/api/spend/chips?from=2025-07&to=2025-07&{query}");
        reply.Code.ShouldBe(200, reply.ToString());
        return reply.Json["rows"]!.AsArray().Sum(r => r!["spend"].Amount());
    }

    private async Task History()
    {
        await At("2025-07-05T10:00:00Z", () => Post(Record("a", 2m, start: "2025-07-01T00:00:00Z", end: "2025-07-01T01:00:00Z")));
        await At("2025-08-10T10:00:00Z", () => Post(Record("late", 1m, start: "2025-07-20T00:00:00Z", end: "2025-07-20T01:00:00Z")));
        await At("2025-08-15T10:00:00Z", () => Admin.PostJson("/api/usage/a/void", new { reason = "meter fault" }));
        await At("2025-08-20T10:00:00Z", () => Admin.PostJson("/api/usage/late/correct", new { chipHours = 3m }));
        await CatchUp();
    }

    [Fact]
    public async Task Known_at_shows_what_the_ledger_reported_then()
    {
        await History();

        (await JulySpend("knownAt=2025-07-31")).ShouldBe(7.00m);
        (await JulySpend("knownAt=2025-08-12")).ShouldBe(10.50m);
        (await JulySpend("knownAt=2025-08-16")).ShouldBe(3.50m);
        (await JulySpend("knownAt=2025-08-20")).ShouldBe(10.50m);
        (await JulySpend("")).ShouldBe(10.50m);
        (await JulySpend("knownAt=2025-07-04")).ShouldBe(0m);
    }

    [Fact]
    public async Task As_of_keeps_facts_by_their_valid_time_and_voids_take_the_valid_time_of_what_they_change()
    {
        await History();

        (await JulySpend("asOf=2025-07-10")).ShouldBe(0m);
        (await JulySpend("asOf=2025-07-10&knownAt=2025-08-12")).ShouldBe(7.00m);
        (await JulySpend("asOf=2025-07-20")).ShouldBe(10.50m);
        (await JulySpend("asOf=2025-07-19T23:59:59Z")).ShouldBe(0m);
    }

    [Fact]
    public async Task Revenue_drawdown_and_reconciliation_follow_the_same_axes()
    {
        await History();

        var revenue = (await Analyst.GetJson("/api/revenue/providers?from=2025-07&to=2025-07&knownAt=2025-08-12")).Json["rows"]!.AsArray();
        revenue.Single()!["revenue"].Amount().ShouldBe(10.50m);

        var drawdown = (await Analyst.GetJson("/api/commitments/amazon-anthropic/drawdown?knownAt=2025-08-16")).Json;
        drawdown["consumed"].Amount().ShouldBe(3.50m);

        var reconciliation = (await Analyst.GetJson("/api/reconciliation?knownAt=2025-08-12")).Json;
        reconciliation["balanced"]!.GetValue<bool>().ShouldBeTrue(reconciliation.ToJsonString());
        reconciliation["currencies"]![0]!["acceptedUsage"]!.GetValue<decimal>().ShouldBe(10.50m);
        (await Analyst.GetJson("/api/reconciliation")).Json["currencies"]![0]!["acceptedUsage"]!.GetValue<decimal>().ShouldBe(10.50m);
    }
}
