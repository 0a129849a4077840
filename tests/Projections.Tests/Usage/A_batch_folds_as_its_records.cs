using ComputeLedger.Ledger;
using ComputeLedger.Ledger.Usage;
using ComputeLedger.Projections.Usage;
using NodaTime;
using Shouldly;

namespace ComputeLedger.Projections.Tests.Usage;

/// <summary>A UsageRecorded folds into every view exactly as the per-record events it stands for.</summary>
public class A_batch_folds_as_its_records
{
    private static readonly Instant RecordedAt = Instant.FromUtc(2025, 9, 1, 0, 0);

    private static ChipHoursConsumed Consumed(string id, string chip, decimal hours, decimal price, Instant start, long? tokens) =>
        new(id, "deal", "AWS", chip, "us-east-1", hours, start, start.Plus(Duration.FromHours(1)), tokens, new Money(price, "USD"),
            new Money(price * hours, "USD").ToCents(), $"provider:{chip}", RecordedAt);

    private static readonly ChipHoursConsumed[] Records =
    [
        Consumed("a", "H100", 2m, 6.88m, Instant.FromUtc(2025, 7, 31, 23, 0), 1_000),
        Consumed("b", "H100", 1.5m, 6.88m, Instant.FromUtc(2025, 8, 1, 0, 0), null),
        Consumed("c", "L40S", 3m, 2.40m, Instant.FromUtc(2025, 7, 2, 0, 0), 5_000),
        Consumed("d", "H100", 0.25m, 7.10m, Instant.FromUtc(2025, 7, 15, 0, 0), 2_000),
        // A chip-month with records with and without tokens: only the former count in the tokenized spend.
        Consumed("i", "L40S", 1m, 2.40m, Instant.FromUtc(2025, 7, 9, 0, 0), null),
    ];

    [Fact]
    public void Chip_spend_provider_revenue_and_drawdown_match_the_per_record_fold()
    {
        var batch = UsageEvents.Batch(Records, RecordedAt);
        batch.Rates.Count.ShouldBe(3);

        foreach (var id in new[] { "AWS|H100|2025-07", "AWS|H100|2025-08", "AWS|L40S|2025-07", "AWS|L40S|2025-08", "Azure|H100|2025-07" })
        {
            var fromBatch = ChipSpend.Next(null, id, batch);
            var fromRecords = Records.Aggregate((ChipSpend?)null, (row, e) => ChipSpend.Next(row, id, e));
            (fromBatch is null).ShouldBe(fromRecords is null, id);
            if (fromBatch is not null)
            {
                (fromBatch.ChipHours, fromBatch.Spend, fromBatch.Tokens, fromBatch.TokenizedSpend, fromBatch.Records, fromBatch.Month)
                    .ShouldBe((fromRecords!.ChipHours, fromRecords.Spend, fromRecords.Tokens, fromRecords.TokenizedSpend, fromRecords.Records, fromRecords.Month), id);
            }
        }

        foreach (var id in new[] { "AWS|2025-07", "AWS|2025-08", "AWS|2025-09" })
        {
            var fromBatch = ProviderRevenue.Next(null, id, batch);
            var fromRecords = Records.Aggregate((ProviderRevenue?)null, (row, e) => ProviderRevenue.Next(row, id, e));
            (fromBatch?.Revenue, fromBatch?.Records).ShouldBe((fromRecords?.Revenue, fromRecords?.Records), id);
        }

        var drawdown = Drawdown.Apply(null, batch, "deal");
        var perRecord = Records.Aggregate((Drawdown?)null, (row, e) => Drawdown.Apply(row, e, "deal"));
        (drawdown.Consumed, drawdown.Records).ShouldBe((perRecord!.Consumed, perRecord.Records));
        drawdown.ByMonth.ShouldBe(perRecord.ByMonth);

        UsageBucket.Deltas(batch, RecordedAt).ShouldBe(Records.SelectMany(r => UsageBucket.Deltas(r, RecordedAt)));
    }

    [Fact]
    public void Time_travel_buckets_of_a_batch_are_those_of_its_records_one_by_one()
    {
        // Two records on the same chip and day, one with tokens and one without: combined per (chip, day, tokens or not).
        ChipHoursConsumed[] records =
        [
            .. Records,
            Consumed("e", "H100", 4m, 6.88m, Instant.FromUtc(2025, 7, 31, 2, 0), null),
            Consumed("f", "H100", 1m, 6.88m, Instant.FromUtc(2025, 7, 31, 5, 0), 7_000),
            Consumed("g", "H100", 1m, 6.88m, Instant.FromUtc(2025, 8, 1, 23, 59), 999_999_999_999_999),
            Consumed("h", "H100", 1m, 6.88m, Instant.FromUtc(2025, 8, 1, 23, 58), 999_999_999_999_999),
        ];
        JasperFx.Events.IEvent At(object data) => new JasperFx.Events.Event<object>(data) { Timestamp = RecordedAt.ToDateTimeOffset() };

        var fromBatch = UsageBucketRows.Fold([At(UsageEvents.Batch(records, RecordedAt))]);
        var fromRecords = UsageBucketRows.Fold(records.Select(r => At(r)));

        fromBatch.Refused.ShouldBeEmpty();
        Described(fromBatch.Rows).ShouldBe(Described(fromRecords.Rows));
        fromBatch.Rows.Count.ShouldBeGreaterThan(UsageEvents.Batch(records, RecordedAt).Records.Count);
    }

    private static List<string> Described(IEnumerable<UsageBucket> rows) =>
        [.. rows.Select(b => $"{b.Id} {b.Currency} {b.ChipHours} {b.Amount} {b.Tokens} {b.TokenizedAmount} {b.Records} {b.Month} {b.MonthIndex}").Order(StringComparer.Ordinal)];
}
