using System.Globalization;
using ComputeLedger.Host.Tests.Infrastructure;
using CsCheck;
using Shouldly;

namespace ComputeLedger.Host.Tests.Usage;

/// <summary>
/// Property: whatever mix of duplicates, retries, rejects, conflicting re-uses and out-of-order windows arrives,
/// Σ chip spend = Σ provider revenue = Σ accepted usage, to the cent, and all equal what a naive model of the rules accepts.
/// </summary>
public class Reconciling_randomized_workloads(LedgerFixture fixture) : UsageTest(fixture)
{
    private sealed record Sent(int Id, bool Invalid, bool Variant);

    private static readonly Gen<Sent> Records = Gen.Select(Gen.Int[0, 59], Gen.Int[0, 9], Gen.Int[0, 9],
        (id, invalid, variant) => new Sent(id, invalid == 0, variant == 0));

    // A batch, and whether it is then retried whole (the ingestion job timed out).
    private static readonly Gen<(Sent[] Records, bool Retried)> Batches =
        Gen.Select(Records.Array[1, 40], Gen.Int[0, 4], (records, retry) => (records, retry == 0));

    [Fact]
    public async Task Spend_revenue_and_accepted_usage_always_agree_to_the_cent()
    {
        await Batches.Array[3, 8].SampleAsync(async batches =>
        {
            await InitializeAsync();
            var accepted = new Dictionary<int, Dictionary<string, object?>>();
            foreach (var (records, retried) in batches)
            {
                var bodies = records.Select(Body).ToArray();
                for (var attempt = 0; attempt < (retried ? 2 : 1); attempt++)
                {
                    var reply = await Post(bodies);
                    reply.Code.ShouldBe(200, reply.ToString());
                }

                foreach (var r in records.Where(r => !r.Invalid && !accepted.ContainsKey(r.Id)))
                {
                    accepted[r.Id] = Body(r);
                }
            }

            await CatchUp();
            var expected = accepted.Values.Sum(Amount);

            var reconciliation = (await Analyst.GetJson("/api/reconciliation")).Json;
            reconciliation["balanced"]!.GetValue<bool>().ShouldBeTrue(reconciliation.ToJsonString());
            var usd = reconciliation["currencies"]!.AsArray().Single()!;
            usd["acceptedUsage"]!.GetValue<decimal>().ShouldBe(expected);
            usd["chipSpend"]!.GetValue<decimal>().ShouldBe(expected);
            usd["providerRevenue"]!.GetValue<decimal>().ShouldBe(expected);
            usd["acceptedRecords"]!.GetValue<long>().ShouldBe(accepted.Count);
        }, iter: 4, threads: 1);
    }

    /// <summary>Each id has one canonical content derived from it; a variant changes the hours, an invalid one zeroes them.</summary>
    private static Dictionary<string, object?> Body(Sent r)
    {
        var day = 1 + ((r.Id * 37) % 300);
        var start = new DateTime(2025, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddDays(day);
        var hours = r.Invalid ? 0m : 1.25m + (r.Id % 7) + (r.Variant ? 1m : 0m);
        var chip = r.Id % 3 == 0 ? "Inferentia2" : "Trainium2";
        var region = (r.Id % 4) switch { 0 => "us-east-1", 1 => "eu-west-1", _ => null };
        return Record($"p-{r.Id}", hours, chip, region,
            start.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            start.AddHours(1).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
    }

    /// <summary>The pricing rules, restated naively: the exact region's line if there is one, else the "any" line.</summary>
    private static decimal Amount(Dictionary<string, object?> body)
    {
        var price = (body["chip"], body["region"]) switch
        {
            ("Trainium2", "us-east-1") => 3.50m,
            ("Trainium2", _) => 4.00m,
            _ => 1.25m,
        };
        return decimal.Round((decimal)body["chipHours"]! * price, 2, MidpointRounding.AwayFromZero);
    }
}
