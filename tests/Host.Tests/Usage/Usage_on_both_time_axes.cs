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

    [Fact]
    public async Task Restatements_list_past_months_that_changed_between_two_known_times_with_their_causes()
    {
        await History();

        var reply = await Analyst.GetJson("/api/restatements?knownFrom=2025-07-31&knownTo=2025-08-12");

        reply.Code.ShouldBe(200, reply.ToString());
        var entries = reply.Json["restatements"]!.AsArray();
        var spend = entries.Single(e => e!["figure"]!.GetValue<string>() == "chipSpend")!;
        spend["month"]!.GetValue<string>().ShouldBe("2025-07");
        spend["chip"]!.GetValue<string>().ShouldBe("Trainium2");
        spend["old"].Amount().ShouldBe(7.00m);
        spend["new"].Amount().ShouldBe(10.50m);
        spend["eventIds"]!.AsArray().Count.ShouldBe(1);
        entries.Select(e => e!["figure"]!.GetValue<string>()).ShouldBe(["chipSpend", "commitmentDrawdown", "providerRevenue"]);
        entries.Select(e => e!["currency"]!.GetValue<string>()).ShouldAllBe(c => c == "USD");

        // The void (-7.00) and the correction (+7.00) recorded after 08-12 cancel out: nothing to restate since then.
        (await Analyst.GetJson("/api/restatements?knownFrom=2025-08-12")).Json["restatements"]!.AsArray().ShouldBeEmpty();
        var afterVoid = (await Analyst.GetJson("/api/restatements?knownFrom=2025-08-16")).Json["restatements"]!.AsArray();
        var corrected = afterVoid.Single(e => e!["figure"]!.GetValue<string>() == "chipSpend")!;
        corrected["old"].Amount().ShouldBe(3.50m);
        corrected["new"].Amount().ShouldBe(10.50m);
        corrected["eventIds"]!.AsArray().Count.ShouldBe(1);
        (await Analyst.GetJson("/api/restatements")).Code.ShouldBe(400);
    }

    [Fact]
    public async Task Lineage_lists_the_events_behind_a_chip_month_and_a_provider_month_on_both_axes()
    {
        await History();

        var then = (await Analyst.GetJson("/api/explain/spend/AWS/Trainium2/2025-07?knownAt=2025-08-12")).Json;
        then["value"].Amount().ShouldBe(10.50m);
        then["records"]!.AsArray().Select(e => e!["type"]!.GetValue<string>()).ShouldBe(["usage_recorded", "usage_recorded"]);
        then["records"]![0]!["validTime"]!.GetValue<string>().ShouldBe("2025-07-01T00:00:00Z");
        then["records"]![0]!["knownTime"]!.GetValue<string>().ShouldStartWith("2025-07-05T10:00:00");

        var now = (await Analyst.GetJson("/api/explain/revenue/AWS/2025-07")).Json;
        now["value"].Amount().ShouldBe(10.50m);
        // A correction is two entries: the old figures taken back, then the new ones.
        now["records"]!.AsArray().Select(e => e!["type"]!.GetValue<string>())
            .ShouldBe(["usage_recorded", "usage_recorded", "usage_voided", "usage_corrected", "usage_corrected"]);
    }

    [Fact]
    public async Task The_FOCUS_export_has_usage_and_correction_charges_on_both_axes()
    {
        await History();

        var csv = await Analyst.GetStringAsync("/api/export/focus.csv?from=2025-07-01&to=2025-07-31", TestContext.Current.CancellationToken);
        var lines = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var header = lines[0].Split(',');
        foreach (var column in new[] { "BilledCost", "EffectiveCost", "BillingCurrency", "ChargePeriodStart", "ChargePeriodEnd", "ChargeCategory",
                     "ChargeClass", "ConsumedQuantity", "ConsumedUnit", "PricingQuantity", "PricingUnit", "ProviderName", "RegionId", "SkuId",
                     "ResourceType", "x_CommitmentId" })
        {
            header.ShouldContain(column);
        }

        var rows = lines.Skip(1).Select(SplitCsv).ToList();
        string Col(string[] row, string name) => row[Array.IndexOf(header, name)];
        rows.Select(r => $"{Col(r, "x_UsageId")}:{Col(r, "ChargeClass")}:{Col(r, "BilledCost")}")
            .ShouldBe(["a::7.00", "late::3.50", "a:Correction:-7.00", "late:Correction:-3.50", "late:Correction:10.50"]);
        rows.Sum(r => decimal.Parse(Col(r, "BilledCost"), System.Globalization.CultureInfo.InvariantCulture)).ShouldBe(10.50m);
        Col(rows[0], "x_CommitmentId").ShouldBe("amazon-anthropic");
        Col(rows[0], "SkuId").ShouldBe("Trainium2");

        var then = await Analyst.GetStringAsync("/api/export/focus.csv?from=2025-07-01&to=2025-07-31&knownAt=2025-08-12", TestContext.Current.CancellationToken);
        then.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length.ShouldBe(3);
        (await Analyst.GetJson("/api/export/focus.csv?from=2025-07-31&to=2025-07-01")).Code.ShouldBe(400);
    }

    /// <summary>RFC 4180 fields of one line: commas inside quotes belong to the field, doubled quotes are one quote.</summary>
    private static string[] SplitCsv(string line)
    {
        var fields = new List<string>();
        var field = new System.Text.StringBuilder();
        var quoted = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quoted && c == '"' && i + 1 < line.Length && line[i + 1] == '"')
            {
                field.Append('"');
                i++;
            }
            else if (c == '"')
            {
                quoted = !quoted;
            }
            else if (c == ',' && !quoted)
            {
                fields.Add(field.ToString());
                field.Clear();
            }
            else if (c != '\r')
            {
                field.Append(c);
            }
        }

        fields.Add(field.ToString());
        return [.. fields];
    }
}
