using ComputeLedger.Host.Tests.Infrastructure;
using ComputeLedger.Host.Tests.Usage;
using ComputeLedger.Ledger;
using ComputeLedger.Ledger.Usage;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Shouldly;

namespace ComputeLedger.Host.Tests.Operations;

/// <summary>
/// Events written before the edge enforced its limits can hold figures no view can sum. The daemon skips each such
/// event as a dead letter and goes on folding the rest; /health says Degraded, the admin endpoint lists them, and voiding
/// the records, then rebuilding, gives true views again.
/// </summary>
public class Dead_letters(LedgerFixture fixture) : UsageTest(fixture)
{
    private static readonly Instant July = Instant.FromUtc(2025, 7, 1, 0, 0);

    /// <summary>Inferentia2 at 1.25: 3.3 × 10^28 chip-hours cost 4.125 × 10^28, two of them more than a decimal holds.</summary>
    private static ChipHoursConsumed Inferentia(string usageId, decimal chipHours) => new(usageId, "amazon-anthropic", "AWS", "Inferentia2", null,
        chipHours, July, July.Plus(Duration.FromHours(1)), null, new Money(1.25m, "USD"), new Money(1.25m * chipHours, "USD"),
        "provider card AWS from 2025-01-01", July.Plus(Duration.FromDays(1)));

    private async Task AppendPoison()
    {
        await using var session = Fixture.Store.LightweightSession();
        // Bypassing the API, as an older release would have stored them: the two oversized records, then a normal one.
        session.Events.StartStream("usage:poison", Inferentia("big-1", 33_000_000_000_000_000_000_000_000_000m),
            Inferentia("big-2", 33_000_000_000_000_000_000_000_000_000m), Inferentia("fine", 2m));
        await session.SaveChangesAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task Events_that_cannot_be_applied_are_skipped_listed_and_reported_while_the_others_fold()
    {
        (await Post(Record("h-1", 2m))).Code.ShouldBe(200);
        await AppendPoison();
        (await Post(Record("h-2", 4m))).Code.ShouldBe(200);

        await CatchUp();

        // Every other event is folded: Trainium2 by both API records, Inferentia2 by the normal record only.
        var spend = (await Analyst.GetJson("/api/spend/chips?from=2025-07&to=2025-07")).Json["rows"]!.AsArray();
        spend.Select(r => $"{r!["chip"]} {r["spend"].Amount()} {r["records"]}").ShouldBe(["Inferentia2 2.50 1", "Trainium2 21.00 2"]);
        var revenue = (await Analyst.GetJson("/api/revenue/providers?from=2025-07&to=2025-07")).Json["rows"]![0]!;
        revenue["revenue"].Amount().ShouldBe(23.50m);
        var drawdown = await Analyst.GetJson("/api/commitments/amazon-anthropic/drawdown");
        drawdown.Json["consumed"].Amount().ShouldBe(23.50m);
        // The time-travel buckets too (a whole-day asOf reads the bucket table).
        var asOf = (await Analyst.GetJson("/api/spend/chips?from=2025-07&to=2025-07&asOf=2025-08-01")).Json["rows"]!.AsArray();
        asOf.Select(r => $"{r!["chip"]} {r["spend"].Amount()} {r["records"]}").ShouldBe(["Inferentia2 2.50 1", "Trainium2 21.00 2"]);

        var letters = await Admin.GetJson("/api/dead-letters");
        letters.Code.ShouldBe(200, letters.ToString());
        var listed = letters.Json["deadLetters"]!.AsArray();
        listed.Select(d => d!["usageId"]!.GetValue<string>()).Distinct().Order().ShouldBe(["big-1", "big-2"]);
        foreach (var d in listed)
        {
            d!["eventType"]!.GetValue<string>().ShouldBe("chip_hours_consumed");
            d["stream"]!.GetValue<string>().ShouldBe("usage:poison");
            d["eventId"]!.GetValue<Guid>().ShouldNotBe(Guid.Empty);
            d["eventSequence"]!.GetValue<long>().ShouldBeGreaterThan(0);
            d["projection"]!.GetValue<string>().ShouldNotBeNullOrEmpty();
            d["error"]!.GetValue<string>().ShouldNotBeNullOrEmpty();
            d["resolved"]!.GetValue<bool>().ShouldBeFalse();
        }

        letters.Json["total"]!.GetValue<long>().ShouldBe(listed.Count);
        letters.Json["unresolved"]!.GetValue<long>().ShouldBe(listed.Count);
        var one = await Admin.GetJson("/api/dead-letters?limit=1");
        one.Json["deadLetters"]!.AsArray().Count.ShouldBe(1);
        (await Admin.GetJson("/api/dead-letters?limit=0")).Code.ShouldBe(400);
        (await Admin.GetJson("/api/dead-letters?limit=1001")).Code.ShouldBe(400);
        (await Analyst.GetJson("/api/dead-letters")).Code.ShouldBe(403);

        var health = await Anonymous.GetJson("/health");
        health.Code.ShouldBe(200, health.ToString());
        health.Json["status"]!.GetValue<string>().ShouldBe("Degraded");
        var ready = await Anonymous.GetJson("/health/ready");
        ready.Code.ShouldBe(200);
    }

    [Fact]
    public async Task A_ledger_without_dead_letters_is_healthy()
    {
        (await Post(Record("h-1", 2m))).Code.ShouldBe(200);
        await CatchUp();

        var health = await Anonymous.GetJson("/health");
        health.Code.ShouldBe(200);
        health.Json["status"]!.GetValue<string>().ShouldBe("Healthy");
        (await Admin.GetJson("/api/dead-letters")).Json["deadLetters"]!.AsArray().ShouldBeEmpty();
    }

    [Fact]
    public async Task A_poisoned_database_is_repaired_by_voiding_the_records_and_rebuilding_the_usage_views()
    {
        (await Post(Record("h-1", 2m))).Code.ShouldBe(200);
        await AppendPoison();
        // The claims an older ingest wrote next to the oversized records, so they can be voided like any record.
        await Sql("""
            insert into ledger.usage_claims (usage_id, fingerprint, commitment_id, stream_id, amount, currency, chip, chip_hours, start)
            values ('big-1', 'f', 'amazon-anthropic', 'usage:poison', 41250000000000000000000000000, 'USD', 'Inferentia2', 33000000000000000000000000000, '2025-07-01'),
                   ('big-2', 'f', 'amazon-anthropic', 'usage:poison', 41250000000000000000000000000, 'USD', 'Inferentia2', 33000000000000000000000000000, '2025-07-01'),
                   ('fine', 'f', 'amazon-anthropic', 'usage:poison', 2.50, 'USD', 'Inferentia2', 2, '2025-07-01')
            """);
        await CatchUp();
        // What an older release had already folded before its daemon stopped: the first oversized amount in chip spend.
        await Sql("""
            update ledger.mt_doc_chipspend set data = jsonb_set(jsonb_set(data, '{spend,amount}', '41250000000000000000000000002.50'), '{records}', '2')
            where id = 'AWS|Inferentia2|2025-07'
            """);
        (await Reconcile())["balanced"]!.GetValue<bool>().ShouldBeFalse();

        foreach (var usageId in new[] { "big-1", "big-2" })
        {
            var voided = await Admin.PostJson($"/api/usage/{usageId}/void", new { reason = "figures beyond the ledger limits" });
            voided.Code.ShouldBe(200, voided.ToString());
        }

        var daemon = Fixture.Host.Services.GetRequiredService<Marten.Events.Daemon.Coordination.IProjectionCoordinator>().DaemonForMainDatabase();
        await daemon.RebuildProjectionAsync(ComputeLedger.Host.Usage.Configuration.UsageProjection, TimeSpan.FromMinutes(2), TestContext.Current.CancellationToken);
        await CatchUp();

        var spend = (await Analyst.GetJson("/api/spend/chips?from=2025-07&to=2025-07")).Json["rows"]!.AsArray();
        spend.Select(r => $"{r!["chip"]} {r["spend"].Amount()} {r["records"]}").ShouldBe(["Inferentia2 2.50 1", "Trainium2 7.00 1"]);
        var reconciliation = await Reconcile();
        reconciliation["balanced"]!.GetValue<bool>().ShouldBeTrue(reconciliation.ToJsonString());
        reconciliation["currencies"]![0]!["buckets"]!.GetValue<decimal>().ShouldBe(9.50m);
        reconciliation["currencies"]![0]!["drawdown"]!.GetValue<decimal>().ShouldBe(9.50m);

        var letters = (await Admin.GetJson("/api/dead-letters")).Json;
        letters["deadLetters"]!.AsArray().Select(d => d!["usageId"]!.GetValue<string>()).Distinct().Order().ShouldBe(["big-1", "big-2"]);
        letters["unresolved"]!.GetValue<long>().ShouldBe(0);
        (await Anonymous.GetJson("/health")).Json["status"]!.GetValue<string>().ShouldBe("Healthy");
    }

    private async Task<System.Text.Json.Nodes.JsonNode> Reconcile()
    {
        var reply = await Analyst.GetJson("/api/reconciliation");
        reply.Code.ShouldBe(200, reply.ToString());
        return reply.Json;
    }
}
