using ComputeLedger.Host.Usage.Reading;
using ComputeLedger.Ledger;
using ComputeLedger.Ledger.Commitments;
using NodaTime;
using Shouldly;

namespace ComputeLedger.Host.Tests.Usage;

/// <summary>The drawdown's straight-line projection, a pure function: no database.</summary>
public class Projecting_consumption
{
    private static readonly ComputeCommitment TwoYears = new("AWS", ["Trainium2"], new Money(1_000_000m, "USD"), new LocalDate(2025, 1, 1), new LocalDate(2027, 1, 1));
    private static readonly Instant TermStart = Instant.FromUtc(2025, 1, 1, 0, 0);

    [Fact]
    public void Consumption_half_way_through_the_term_projects_to_twice_as_much()
    {
        UsageQueries.Project(TwoYears, new Money(100m, "USD"), Instant.FromUtc(2026, 1, 1, 0, 0)).ShouldBe(new Money(200.00m, "USD"));
        UsageQueries.Project(TwoYears, new Money(100m, "USD"), TermStart).ShouldBe(new Money(100m, "USD"));
    }

    [Fact]
    public void A_projection_a_tick_into_the_term_is_the_largest_amount_rather_than_an_overflow()
    {
        // 10^15 (one record's largest amount) × 6.3 × 10^14 ticks of term per tick elapsed is past a decimal's range.
        var projected = UsageQueries.Project(TwoYears, new Money(1_000_000_000_000_000m, "USD"), TermStart.PlusTicks(1));

        projected.ShouldBe(new Money(decimal.MaxValue, "USD"));
    }
}
