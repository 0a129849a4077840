using ComputeLedger.Ledger;
using ComputeLedger.Ledger.Usage;
using ComputeLedger.Projections.Usage;
using NodaTime;
using Shouldly;

namespace ComputeLedger.Projections.Tests.Usage;

/// <summary>
/// A closed day's hourly rows: summing a valid day's hours up to the one an instant falls in gives what the deltas valid
/// that day before the instant give, whenever no record of that hour starts at or after the instant (else the read replays).
/// </summary>
public class Known_day_hours
{
    private static readonly Instant RecordedAt = Instant.FromUtc(2025, 9, 1, 0, 0);

    [Fact]
    public void Hours_up_to_an_instant_sum_the_deltas_before_it()
    {
        var random = new Random(20261130);
        var origin = Instant.FromUtc(2025, 7, 30, 0, 0);
        var records = Enumerable.Range(0, 300).Select(i =>
        {
            // Half the records start on the hour, as hourly metering does; the others anywhere in it.
            var start = origin.Plus(Duration.FromHours(random.Next(0, 72)))
                .Plus(i % 2 == 0 ? Duration.Zero : Duration.FromSeconds(random.Next(0, 3600)));
            var hours = random.Next(1, 40) / 4m;
            return new ChipHoursConsumed($"r{i}", "deal", "AWS", i % 3 == 0 ? "L40S" : "H100", "us-east-1", hours, start,
                start.Plus(Duration.FromHours(1)), i % 4 == 0 ? null : random.Next(1, 10_000), new Money(2.5m, "USD"),
                new Money(2.5m * hours, "USD").ToCents(), "provider:H100", RecordedAt);
        }).ToArray();
        var batch = UsageEvents.Batch(records, RecordedAt);
        var rows = new Dictionary<(string, string, string, int, string, int), KnownDayHours.Row>();
        KnownDayHours.Fold([(batch, RecordedAt)], rows);
        var deltas = UsageBucket.Deltas(batch, RecordedAt).ToList();

        var (summed, replayed) = (0, 0);
        for (var probe = 0; probe < 400; probe++)
        {
            // Instants on the hour, just after it, and anywhere, as the API gives them (asOf inclusive: the bound 1 ns after).
            var asOf = origin.Plus(Duration.FromHours(random.Next(0, 72))).Plus((probe % 3) switch
            {
                0 => Duration.Zero,
                1 => Duration.FromTicks(1),
                _ => Duration.FromSeconds(random.Next(0, 3600)),
            });
            var before = asOf.Plus(Duration.FromNanoseconds(1));
            var day = UsageBucket.DayOf(before);
            var dayStart = UsageLineage.Nanos(UsageLineage.DayStart(day));
            var (slot, offset) = KnownDayHours.SlotOf(new BoundaryDays(dayStart, UsageLineage.Nanos(before), long.MaxValue, long.MaxValue));
            var dayRows = rows.Values.Where(r => r.ValidDay == day).ToList();
            if (dayRows.Any(r => r.MaxOffsetNs[slot - 1] >= offset))
            {
                replayed++;
                continue;
            }

            summed++;
            foreach (var chip in new[] { "H100", "L40S" })
            {
                var expected = deltas.Where(d => d.Chip == chip && UsageBucket.DayOf(d.ValidAt) == day && d.ValidAt < before).ToList();
                var hours = dayRows.Where(r => r.Chip == chip).ToList();
                // As the table holds them: running sums over the hours, read at the hour asOf falls in.
                (hours.Sum(r => KnownDayHours.Cumulative(r.ChipHours)[slot - 1]), hours.Sum(r => KnownDayHours.Cumulative(r.Amount)[slot - 1]),
                        hours.Sum(r => KnownDayHours.Cumulative(r.Records)[slot - 1]), hours.Sum(r => KnownDayHours.Cumulative(r.Tokens)[slot - 1]),
                        hours.Sum(r => KnownDayHours.Cumulative(r.TokenizedAmount)[slot - 1]))
                    .ShouldBe((expected.Sum(d => d.ChipHours), expected.Sum(d => d.Amount.Amount), (long)expected.Sum(d => d.Records),
                        expected.Sum(d => d.Tokens ?? 0m), expected.Where(d => d.Tokens is not null).Sum(d => d.Amount.Amount)), $"{asOf} {chip}");
            }
        }

        // Both ways are exercised: summed from the hours, and left to replay where a record splits the hour.
        summed.ShouldBeGreaterThan(40);
        replayed.ShouldBeGreaterThan(40);
    }

    [Fact]
    public void An_instant_falls_in_the_hour_that_holds_it()
    {
        var day = UsageLineage.Nanos(Instant.FromUtc(2025, 7, 1, 0, 0));
        KnownDayHours.SlotOf(new BoundaryDays(day, day + 1, long.MaxValue, long.MaxValue)).ShouldBe((1, 1L));
        KnownDayHours.SlotOf(new BoundaryDays(day, day + (12 * KnownDayHours.HourNs) + 1, long.MaxValue, long.MaxValue)).ShouldBe((13, 1L));
        KnownDayHours.SlotOf(new BoundaryDays(day, day + (12 * KnownDayHours.HourNs), long.MaxValue, long.MaxValue)).ShouldBe((12, KnownDayHours.HourNs));
        KnownDayHours.SlotOf(new BoundaryDays(day, day + KnownDayHours.DayNs - 1, long.MaxValue, long.MaxValue)).ShouldBe((24, KnownDayHours.HourNs - 1));
    }
}
