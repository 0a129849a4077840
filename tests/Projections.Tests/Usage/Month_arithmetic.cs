using ComputeLedger.Projections.Usage;
using NodaTime;
using Shouldly;

namespace ComputeLedger.Projections.Tests.Usage;

/// <summary>Months.IndexOf and Months.Of are integer arithmetic on the day number; NodaTime's calendar is their definition.</summary>
public class Month_arithmetic
{
    [Fact]
    public void The_month_of_an_instant_is_that_of_its_UTC_date_over_the_whole_calendar()
    {
        var random = new Random(20261130);
        var instants = Enumerable.Range(0, 200_000)
            .Select(_ => Instant.FromUnixTimeTicks(random.NextInt64(Instant.MinValue.ToUnixTimeTicks(), Instant.MaxValue.ToUnixTimeTicks())))
            .Concat(Enumerable.Range(-800, 1600).SelectMany(day => new[]
            {
                // Every day boundary around the epoch and around leap days and century years, to the tick.
                Instant.FromUnixTimeTicks(day * NodaConstants.TicksPerDay), Instant.FromUnixTimeTicks((day * NodaConstants.TicksPerDay) - 1),
            }))
            .Concat(new[] { 1600, 1900, 2000, 2024, 2025, 2100, 2199, 2200, 9999, -9998 }.SelectMany(year => new[]
            {
                Instant.FromUtc(year, 2, 28, 23, 59, 59), Instant.FromUtc(year, 3, 1, 0, 0), Instant.FromUtc(year, 12, 31, 23, 59, 59), Instant.FromUtc(year, 1, 1, 0, 0),
            }))
            .Append(Instant.MinValue).Append(Instant.MaxValue);

        foreach (var instant in instants)
        {
            var date = instant.InUtc().Date;
            Months.IndexOf(instant).ShouldBe(Months.Index(date.ToYearMonth()), instant.ToString());
            Months.Of(instant).ShouldBe($"{date.Year:0000}-{date.Month:00}", instant.ToString());
        }
    }
}
