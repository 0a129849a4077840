using ComputeLedger.Host.Tests.Infrastructure;
using Shouldly;

namespace ComputeLedger.Host.Tests.Usage;

public class Reading_spend_revenue_and_drawdown(LedgerFixture fixture) : UsageTest(fixture)
{
    private async Task Arrange()
    {
        var reply = await Post(
            Record("h-1", 2m, tokens: 1_000_000),
            Record("h-2", 4m, region: null, start: "2025-07-15T00:00:00Z", end: "2025-07-15T02:00:00Z"),
            Record("i-1", 8m, chip: "Inferentia2", start: "2025-08-02T00:00:00Z", end: "2025-08-02T01:00:00Z", tokens: 4_000_000),
            // Arrives late: July again, after August was posted.
            Record("late", 1m, start: "2025-07-03T00:00:00Z", end: "2025-07-03T01:00:00Z"));
        reply.Json["accepted"]!.GetValue<int>().ShouldBe(4, reply.ToString());
        await CatchUp();
    }

    [Fact]
    public async Task Chip_spend_is_per_chip_provider_and_month_with_cost_per_million_tokens()
    {
        await Arrange();

        var reply = await Analyst.GetJson("/api/spend/chips?from=2025-07&to=2025-08&provider=AWS");

        reply.Code.ShouldBe(200, reply.ToString());
        var rows = reply.Json["rows"]!.AsArray();
        rows.Select(r => $"{r!["month"]} {r["chip"]} {r["provider"]}").ShouldBe(["2025-07 Trainium2 AWS", "2025-08 Inferentia2 AWS"]);
        var july = rows[0]!;
        july["chipHours"]!.GetValue<decimal>().ShouldBe(7m);
        july["spend"].Amount().ShouldBe(7.00m + 16.00m + 3.50m);
        july["records"]!.GetValue<int>().ShouldBe(3);
        july["tokens"]!.GetValue<long>().ShouldBe(1_000_000);
        july["costPer1MTokens"]!.GetValue<decimal>().ShouldBe(7.00m);
        rows[1]!["costPer1MTokens"]!.GetValue<decimal>().ShouldBe(2.50m);

        var onlyInferentia = await Analyst.GetJson("/api/spend/chips?from=2025-01&to=2025-12&chip=Inferentia2");
        onlyInferentia.Json["rows"]!.AsArray().Count.ShouldBe(1);
        (await Analyst.GetJson("/api/spend/chips?provider=Microsoft%20Azure")).Json["rows"]!.AsArray().ShouldBeEmpty();
    }

    [Fact]
    public async Task Every_read_says_how_far_behind_its_projection_is()
    {
        await Arrange();

        var reply = await Analyst.GetJson("/api/spend/chips");

        var lag = reply.Json["lag"]!;
        lag["lastProcessedSequence"]!.GetValue<long>().ShouldBe(lag["highWaterMark"]!.GetValue<long>());
        lag["lastProcessedSequence"]!.GetValue<long>().ShouldBeGreaterThan(0);
        lag["secondsBehind"]!.GetValue<double>().ShouldBe(0);
        reply.Headers.GetValues("X-Projection-Lag-Seconds").Single().ShouldBe("0");
    }

    [Fact]
    public async Task Provider_revenue_gives_revenue_backlog_and_active_commitments_per_month()
    {
        await Arrange();

        var rows = (await Analyst.GetJson("/api/revenue/providers?from=2025-07&to=2025-09")).Json["rows"]!.AsArray();

        rows.Select(r => r!["month"]!.GetValue<string>()).ShouldBe(["2025-07", "2025-08", "2025-09"]);
        rows[0]!["revenue"].Amount().ShouldBe(26.50m);
        rows[0]!["backlog"].Amount().ShouldBe(1_000_000m - 26.50m);
        rows[0]!["activeCommitments"]!.GetValue<int>().ShouldBe(1);
        rows[1]!["revenue"].Amount().ShouldBe(10.00m);
        rows[1]!["backlog"].Amount().ShouldBe(1_000_000m - 36.50m);
        rows[2]!["revenue"].Amount().ShouldBe(0m);
    }

    [Fact]
    public async Task A_commitment_counts_as_active_and_in_the_backlog_only_from_the_month_it_was_signed()
    {
        await Arrange();
        var late = Deal("late-signer");
        late["signedOn"] = "2025-08-15";
        late["computeCommitment"] = new
        {
            provider = "AWS", chips = new[] { "Trainium2" }, committedSpend = Usd(500_000m), termStart = "2025-01-01", termEnd = "2027-01-01",
        };
        await Create(late);

        var rows = (await Analyst.GetJson("/api/revenue/providers?from=2025-07&to=2025-09")).Json["rows"]!.AsArray();

        // July: only amazon-anthropic (signed 2024), its 1,000,000 less the 26.50 consumed by then. From August the late
        // signer adds its whole 500,000 (nothing drawn on it); amazon-anthropic has 36.50 consumed by then.
        rows.Select(r => $"{r!["month"]} {r["activeCommitments"]} {r["backlog"].Amount()}")
            .ShouldBe(["2025-07 1 999973.50", "2025-08 2 1499963.50", "2025-09 2 1499963.50"]);
    }

    [Fact]
    public async Task Drawdown_gives_committed_consumed_remaining_by_chip_and_month_and_a_projected_shortfall()
    {
        await Arrange();

        var reply = await Analyst.GetJson("/api/commitments/amazon-anthropic/drawdown");

        reply.Code.ShouldBe(200, reply.ToString());
        var d = reply.Json;
        d["commitmentId"]!.GetValue<string>().ShouldBe("amazon-anthropic");
        d["committed"].Amount().ShouldBe(1_000_000m);
        d["consumed"].Amount().ShouldBe(36.50m);
        d["remaining"].Amount().ShouldBe(1_000_000m - 36.50m);
        d["byChip"]!.AsArray().Select(c => $"{c!["chip"]}:{c["chipHours"]}:{c["consumed"].Amount()}").ShouldBe(["Inferentia2:8:10.00", "Trainium2:7:26.50"]);
        d["byMonth"]!.AsArray().Select(m => $"{m!["month"]}:{m["consumed"].Amount()}").ShouldBe(["2025-07:26.50", "2025-08:10.00"]);
        d["projectedShortfall"].Amount().ShouldBeGreaterThan(0m);
        d["projectedShortfall"].Amount().ShouldBeLessThan(1_000_000m);

        (await Analyst.GetJson("/api/commitments/nope/drawdown")).Code.ShouldBe(404);
    }

    [Fact]
    public async Task Month_parameters_must_be_yyyy_MM()
    {
        var reply = await Analyst.GetJson("/api/spend/chips?from=2025-13");

        reply.Code.ShouldBe(400);
        reply.Json["detail"]!.GetValue<string>().ShouldContain("yyyy-MM");
    }
}
