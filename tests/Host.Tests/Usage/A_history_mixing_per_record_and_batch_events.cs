using System.Text.Json.Nodes;
using ComputeLedger.Host.Tests.Infrastructure;
using ComputeLedger.Ledger;
using ComputeLedger.Ledger.Usage;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Shouldly;

namespace ComputeLedger.Host.Tests.Usage;

/// <summary>
/// A ledger that held one ChipHoursConsumed per record before usage became one UsageRecorded per batch keeps working:
/// the old records fold next to the new batches, both can be voided and corrected, every view and the FOCUS export
/// agree, and a rebuild of the usage projections gives the same figures.
/// </summary>
public class A_history_mixing_per_record_and_batch_events(LedgerFixture fixture) : UsageTest(fixture)
{
    private static readonly Instant OlderRelease = Instant.FromUtc(2025, 7, 2, 12, 0);

    private static ChipHoursConsumed Old(string usageId, decimal hours, string start) => new(usageId, "amazon-anthropic", "AWS", "Trainium2", "us-east-1",
        hours, InstantPattern(start), InstantPattern(start).Plus(Duration.FromHours(1)), 1_000, new Money(3.50m, "USD"),
        new Money(3.50m * hours, "USD"), "provider:2025-01-01:us-east-1", OlderRelease);

    private static Money Usd2(decimal amount) => new(amount, "USD");

    private static Instant InstantPattern(string text) => NodaTime.Text.InstantPattern.ExtendedIso.Parse(text).Value;

    private async Task WriteOlderLedger()
    {
        // What an older release wrote for three records: per-record events on one stream, and their claims.
        Fixture.Time.Pinned = OlderRelease.ToDateTimeOffset();
        await using (var session = Fixture.Store.LightweightSession())
        {
            UsageStreams.Start(session, [("usage:amazon-anthropic:older", [Old("o-1", 2m, "2025-07-01T00:00:00Z"), Old("o-2", 4m, "2025-07-01T02:00:00Z"),
                Old("o-3", 1m, "2025-08-01T00:00:00Z")])], OlderRelease);
            await session.SaveChangesAsync(TestContext.Current.CancellationToken);
        }

        await Sql("""
            insert into ledger.usage_claims (usage_id, fingerprint, commitment_id, stream_id, amount, currency, chip, chip_hours, start)
            values ('o-1', 'f1', 'amazon-anthropic', 'usage:amazon-anthropic:older', 7.00, 'USD', 'Trainium2', 2, '2025-07-01T00:00:00Z'),
                   ('o-2', 'f2', 'amazon-anthropic', 'usage:amazon-anthropic:older', 14.00, 'USD', 'Trainium2', 4, '2025-07-01T02:00:00Z'),
                   ('o-3', 'f3', 'amazon-anthropic', 'usage:amazon-anthropic:older', 3.50, 'USD', 'Trainium2', 1, '2025-08-01T00:00:00Z')
            """);
        Fixture.Time.Pinned = null;
    }

    private async Task<string[]> Spend() =>
        [.. (await Analyst.GetJson("/api/spend/chips?from=2025-07&to=2025-08")).Json["rows"]!.AsArray()
            .Select(r => $"{r!["month"]} {r["chip"]} {r["chipHours"]} {r["spend"].Amount()} {r["records"]}")];

    [Fact]
    public async Task Old_and_new_usage_fold_together_and_a_rebuild_gives_the_same_figures()
    {
        await WriteOlderLedger();
        // New batches: two records in one batch (one event), one alone.
        (await Post(Record("n-1", 2m, start: "2025-07-03T00:00:00Z", end: "2025-07-03T01:00:00Z"),
            Record("n-2", 2m, chip: "Inferentia2", region: null, start: "2025-07-03T00:00:00Z", end: "2025-07-03T01:00:00Z"))).Json["accepted"]!.GetValue<int>().ShouldBe(2);
        (await Post(Record("n-3", 1m, start: "2025-08-02T00:00:00Z", end: "2025-08-02T01:00:00Z"))).Json["accepted"]!.GetValue<int>().ShouldBe(1);
        (await CountEvents("usage_recorded")).ShouldBe(2);

        // A retried old record is a duplicate forever; voids and corrections reach records of both kinds.
        (await Admin.PostJson("/api/usage/o-2/void", new { reason = "meter fault" })).Code.ShouldBe(200);
        (await Admin.PostJson("/api/usage/n-2/void", new { reason = "meter fault" })).Code.ShouldBe(200);
        var oldCorrected = await Admin.PostJson("/api/usage/o-3/correct", new { chipHours = 3m });
        oldCorrected.Code.ShouldBe(200, oldCorrected.ToString());
        oldCorrected.Json["amount"].Amount().ShouldBe(10.50m);
        (await Admin.PostJson("/api/usage/n-3/correct", new { chipHours = 2m })).Json["amount"].Amount().ShouldBe(7.00m);
        await CatchUp();

        // July: o-1 7.00 + n-1 7.00 (3.50 × 2, us-east-1); August: o-3 10.50 + n-3 7.00. Inferentia2 voided to zero.
        string[] expected = ["2025-07 Inferentia2 0 0.00 0", "2025-07 Trainium2 4 14.00 2", "2025-08 Trainium2 5 17.50 2"];
        (await Spend()).ShouldBe(expected);
        var reconciliation = (await Analyst.GetJson("/api/reconciliation")).Json;
        reconciliation["balanced"]!.GetValue<bool>().ShouldBeTrue(reconciliation.ToJsonString());
        (await Analyst.GetJson("/api/commitments/amazon-anthropic/drawdown")).Json["consumed"].Amount().ShouldBe(31.50m);

        // Time travel on whole days (buckets) and on an instant (replay) sees both kinds.
        var asOfJuly2 = (await Analyst.GetJson("/api/spend/chips?from=2025-07&to=2025-07&asOf=2025-07-02&knownAt=2025-07-02")).Json["rows"]!.AsArray();
        asOfJuly2.Select(r => $"{r!["chip"]} {r["spend"].Amount()}").ShouldBe(["Trainium2 21.00"]);
        var instant = (await Analyst.GetJson("/api/spend/chips?from=2025-07&to=2025-07&asOf=2025-07-01T01:00:00Z")).Json["rows"]!.AsArray();
        instant.Select(r => $"{r!["chip"]} {r["spend"].Amount()}").ShouldBe(["Trainium2 7.00"]);

        // The export: old and new charges, and the corrections of both, sum to the current figures.
        var csv = await Analyst.GetStringAsync("/api/export/focus.csv?from=2025-07-01&to=2025-08-31", TestContext.Current.CancellationToken);
        var lines = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var billed = lines[0].Split(',').ToList().IndexOf("BilledCost");
        lines.Skip(1).Sum(l => decimal.Parse(l.Split(',')[billed], System.Globalization.CultureInfo.InvariantCulture)).ShouldBe(31.50m);
        // A header, six charges, two voids, two corrections of two rows each.
        lines.Length.ShouldBe(1 + 6 + 2 + 4);

        var daemon = Fixture.Host.Services.GetRequiredService<Marten.Events.Daemon.Coordination.IProjectionCoordinator>().DaemonForMainDatabase();
        await daemon.RebuildProjectionAsync(ComputeLedger.Host.Usage.Configuration.UsageProjection, TimeSpan.FromMinutes(2), TestContext.Current.CancellationToken);
        await CatchUp();

        (await Spend()).ShouldBe(expected);
        (await Analyst.GetJson("/api/reconciliation")).Json["balanced"]!.GetValue<bool>().ShouldBeTrue();
    }

    [Fact]
    public async Task A_batch_event_carries_each_record_with_its_id_and_the_rates_once()
    {
        (await Post(Record("b-1", 2m), Record("b-2", 3m), Record("b-3", 1m, region: "eu-west-1"))).Json["accepted"]!.GetValue<int>().ShouldBe(3);

        await using var query = Fixture.Store.QuerySession();
        var batch = (await query.Events.QueryRawEventDataOnly<UsageRecorded>().ToListAsync(TestContext.Current.CancellationToken)).ShouldHaveSingleItem();
        batch.Records.Select(r => r.UsageId).ShouldBe(["b-1", "b-2", "b-3"]);
        batch.Rates.Select(r => $"{r.Source} {r.Price}").ShouldBe(["provider:2025-01-01:us-east-1 3.50", "provider:2025-01-01:any 4.00"]);
        batch.Consumptions().Select(c => (c.UsageId, c.PricePerChipHour, c.Amount))
            .ShouldBe([("b-1", Usd2(3.50m), Usd2(7.00m)), ("b-2", Usd2(3.50m), Usd2(10.50m)), ("b-3", Usd2(4.00m), Usd2(4.00m))]);
        batch.Currency.ShouldBe("USD");
    }
}
