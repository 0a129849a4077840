using ComputeLedger.Host.Tests.Infrastructure;
using Shouldly;

namespace ComputeLedger.Host.Tests.Usage;

/// <summary>
/// Reconciliation holds every usage view against the accepted usage: chip spend, provider revenue, drawdown and the
/// time-travel buckets. Each check is shown to fail on its own when its view is off by a cent.
/// </summary>
public class Reconciling_every_view(LedgerFixture fixture) : UsageTest(fixture)
{
    private async Task<System.Text.Json.Nodes.JsonNode> Reconcile()
    {
        var reply = await Analyst.GetJson("/api/reconciliation");
        reply.Code.ShouldBe(200, reply.ToString());
        return reply.Json;
    }

    [Fact]
    public async Task Every_view_agrees_to_the_cent_after_ingest_and_each_check_fails_alone_when_its_view_is_off()
    {
        (await Post(
            Record("r-1", 2m),                                                                  // 7.00 (us-east-1 at 3.50)
            Record("r-2", 3m, region: null, start: "2025-08-01T00:00:00Z", end: "2025-08-01T01:00:00Z"), // 12.00
            Record("r-3", 8m, chip: "Inferentia2"),                                             // 10.00
            Record("r-4", 1m))).Code.ShouldBe(200);                                             // 3.50, then voided
        (await Admin.PostJson("/api/usage/r-4/void", new { reason = "duplicate meter read" })).Code.ShouldBe(200);
        await CatchUp();

        var balanced = await Reconcile();
        balanced["balanced"]!.GetValue<bool>().ShouldBeTrue(balanced.ToJsonString());
        var usd = balanced["currencies"]![0]!;
        foreach (var figure in new[] { "chipSpend", "providerRevenue", "drawdown", "buckets", "acceptedUsage" })
        {
            usd[figure]!.GetValue<decimal>().ShouldBe(29.00m, figure);
        }

        foreach (var records in new[] { "chipSpendRecords", "providerRevenueRecords", "drawdownRecords", "bucketRecords", "acceptedRecords" })
        {
            usd[records]!.GetValue<long>().ShouldBe(3, records);
        }

        // One cent off in one view at a time: that figure shows it and the ledger is not balanced; put back, it is again.
        (string Figure, string Tamper)[] views =
        [
            ("chipSpend", "update ledger.mt_doc_chipspend set data = jsonb_set(data, '{spend,amount}', to_jsonb((data->'spend'->>'amount')::numeric + @delta)) where id = 'AWS|Inferentia2|2025-07'"),
            ("providerRevenue", "update ledger.mt_doc_providerrevenue set data = jsonb_set(data, '{revenue,amount}', to_jsonb((data->'revenue'->>'amount')::numeric + @delta)) where id = 'AWS|2025-08'"),
            ("drawdown", "update ledger.mt_doc_drawdown set data = jsonb_set(data, '{consumed,amount}', to_jsonb((data->'consumed'->>'amount')::numeric + @delta)) where id = 'amazon-anthropic'"),
            ("buckets", "update ledger.usage_buckets set amount = amount + @delta where id = (select min(id) from ledger.usage_buckets where grain = 'mm' and amount > 0)"),
        ];
        foreach (var (figure, tamper) in views)
        {
            await Sql(tamper.Replace("@delta", "0.01", StringComparison.Ordinal));
            var off = await Reconcile();
            off["balanced"]!.GetValue<bool>().ShouldBeFalse(figure);
            off["currencies"]![0]![figure]!.GetValue<decimal>().ShouldBe(29.01m, figure);
            off["currencies"]![0]!["balanced"]!.GetValue<bool>().ShouldBeFalse(figure);

            await Sql(tamper.Replace("@delta", "(-0.01)", StringComparison.Ordinal));
            (await Reconcile())["balanced"]!.GetValue<bool>().ShouldBeTrue(figure);
        }
    }
}
