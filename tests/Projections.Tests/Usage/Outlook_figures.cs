using ComputeLedger.Ledger;
using ComputeLedger.Ledger.Commitments;
using ComputeLedger.Projections.Commitments;
using ComputeLedger.Projections.Usage;
using NodaTime;
using Shouldly;

namespace ComputeLedger.Projections.Tests.Usage;

/// <summary>The drawdown's straight-line projection and the revenue view's backlog: pure functions, no database.</summary>
public class Outlook_figures
{
    private static readonly ComputeCommitment TwoYears = new("AWS", ["Trainium2"], new Money(1_000_000m, "USD"), new LocalDate(2025, 1, 1), new LocalDate(2027, 1, 1));
    private static readonly Instant TermStart = Instant.FromUtc(2025, 1, 1, 0, 0);

    private static TrancheEligibility Signed(string id, LocalDate? signedOn, ComputeCommitment compute) => new()
    {
        CommitmentId = id, Investor = "i", Partner = "p", Provider = "AWS", Structure = "s", Status = CommitmentStatus.Signed, SignedOn = signedOn,
        Headline = compute.CommittedSpend, Released = Money.Zero("USD"), Eligible = Money.Zero("USD"), Locked = compute.CommittedSpend,
        Tranches = [], ComputeCommitment = compute, RecordedAt = TermStart,
    };

    private static Drawdown Consumed(string id, params (string Month, decimal Amount)[] months) => new()
    {
        Id = id,
        ByMonth = months.ToDictionary(m => m.Month, m => new Money(m.Amount, "USD"), StringComparer.Ordinal),
    };

    [Fact]
    public void Consumption_half_way_through_the_term_projects_to_twice_as_much()
    {
        Outlook.Projected(TwoYears, new Money(100m, "USD"), Instant.FromUtc(2026, 1, 1, 0, 0)).ShouldBe(new Money(200.00m, "USD"));
        Outlook.Projected(TwoYears, new Money(100m, "USD"), TermStart).ShouldBe(new Money(100m, "USD"));
    }

    [Fact]
    public void A_projection_a_tick_into_the_term_is_the_largest_amount_rather_than_an_overflow()
    {
        // 10^15 (one record's largest amount) × 6.3 × 10^14 ticks of term per tick elapsed is past a decimal's range.
        var projected = Outlook.Projected(TwoYears, new Money(1_000_000_000_000_000m, "USD"), TermStart.PlusTicks(1));

        projected.ShouldBe(new Money(decimal.MaxValue, "USD"));
    }

    [Fact]
    public void After_the_term_the_projection_is_what_was_consumed()
    {
        Outlook.Projected(TwoYears, new Money(700m, "USD"), Instant.FromUtc(2030, 1, 1, 0, 0)).ShouldBe(new Money(700.00m, "USD"));
    }

    [Fact]
    public void The_shortfall_is_what_the_projection_lacks_and_never_negative()
    {
        Outlook.Shortfall(TwoYears, new Money(400_000m, "USD")).ShouldBe(new Money(600_000m, "USD"));
        Outlook.Shortfall(TwoYears, new Money(1_200_000m, "USD")).ShouldBe(Money.Zero("USD"));
    }

    [Fact]
    public void A_commitment_is_active_in_a_month_its_term_overlaps_once_signed_by_its_end()
    {
        var deal = Signed("d", new LocalDate(2025, 3, 15), TwoYears);

        Outlook.IsActive(deal, new YearMonth(2025, 2)).ShouldBeFalse();
        Outlook.IsActive(deal, new YearMonth(2025, 3)).ShouldBeTrue();
        Outlook.IsActive(deal, new YearMonth(2027, 1)).ShouldBeTrue();
        Outlook.IsActive(deal, new YearMonth(2027, 2)).ShouldBeFalse();
        Outlook.IsActive(Signed("u", null, TwoYears), new YearMonth(2025, 6)).ShouldBeFalse();
    }

    [Fact]
    public void Backlog_is_committed_less_consumed_through_the_month_per_commitment_never_below_zero()
    {
        var small = TwoYears with { CommittedSpend = new Money(100m, "USD") };
        var active = new[] { Signed("a", new LocalDate(2025, 1, 1), TwoYears), Signed("b", new LocalDate(2025, 1, 1), small), Signed("c", new LocalDate(2025, 1, 1), TwoYears) };
        var drawdowns = new Dictionary<string, Drawdown>(StringComparer.Ordinal)
        {
            ["a"] = Consumed("a", ("2025-01", 1_000m), ("2025-02", 2_000m), ("2025-03", 4_000m)),
            ["b"] = Consumed("b", ("2025-01", 150m)),
        };

        // a: 1,000,000 - 3,000 through February; b: overdrawn, counts 0; c: nothing consumed yet.
        Outlook.Backlog(active, drawdowns, "2025-02", "USD").ShouldBe(new Money(997_000m + 0m + 1_000_000m, "USD"));
        Outlook.Backlog([], drawdowns, "2025-02", "EUR").ShouldBe(Money.Zero("EUR"));
    }
}
