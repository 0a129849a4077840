using ComputeLedger.Ledger;
using ComputeLedger.Ledger.Usage;
using ComputeLedger.Projections.Usage;
using NodaTime;
using Shouldly;

namespace ComputeLedger.Projections.Tests.Usage;

public class Usage_folds
{
    private static readonly Instant July = Instant.FromUtc(2025, 7, 10, 0, 0);
    private static readonly Instant August = Instant.FromUtc(2025, 8, 2, 0, 0);

    private static Money Usd(decimal amount) => new(amount, "USD");

    private static ChipHoursConsumed Consumed(string id, decimal hours, decimal amount, Instant start, long? tokens = null) =>
        new(id, "deal", "AWS", "H100", "us-east-1", hours, start, start.Plus(Duration.FromHours(1)), tokens, Usd(amount / hours), Usd(amount), "provider", July);

    private static UsageFigures Figures(decimal hours, decimal amount, Instant start, long? tokens = null) =>
        new(hours, start, start.Plus(Duration.FromHours(1)), tokens, Usd(amount / hours), Usd(amount), "provider");

    private static ChipSpend? Spend(string id, params object[] events) => events.Aggregate((ChipSpend?)null, (row, e) => ChipSpend.Next(row, id, e));

    [Fact]
    public void Chip_spend_adds_consumption_to_the_month_of_the_window_start_with_cost_per_million_tokens()
    {
        var july = Spend("AWS|H100|2025-07", Consumed("a", 2m, 14m, July, 2_000_000), Consumed("b", 1m, 7m, July), Consumed("c", 1m, 7m, August))!;

        july.ChipHours.ShouldBe(3m);
        july.Spend.ShouldBe(Usd(21m));
        july.Records.ShouldBe(2);
        july.Tokens.ShouldBe(2_000_000);
        july.CostPer1MTokens.ShouldBe(7m);
    }

    [Fact]
    public void A_void_reverses_and_a_correction_moves_figures_between_months()
    {
        object[] history =
        [
            Consumed("a", 2m, 14m, July),
            Consumed("b", 1m, 7m, July),
            new UsageVoided("b", "deal", "AWS", "H100", "us-east-1", Figures(1m, 7m, July), "dup", August, "test"),
            new UsageCorrected("a", "deal", "AWS", "H100", "us-east-1", Figures(2m, 14m, July), Figures(3m, 21m, August), "clock", August, "test"),
        ];

        var july = Spend("AWS|H100|2025-07", history)!;
        var august = Spend("AWS|H100|2025-08", history)!;
        july.Spend.ShouldBe(Usd(0m));
        july.Records.ShouldBe(0);
        august.Spend.ShouldBe(Usd(21m));
        august.ChipHours.ShouldBe(3m);

        var revenue = history.Aggregate((ProviderRevenue?)null, (row, e) => ProviderRevenue.Next(row, "AWS|2025-08", e))!;
        revenue.Revenue.ShouldBe(Usd(21m));
        var drawdown = history.Aggregate((Drawdown?)null, (row, e) => Drawdown.Apply(row, e, "deal"))!;
        drawdown.Consumed.ShouldBe(Usd(21m));
        drawdown.ByMonth["2025-07"].ShouldBe(Usd(0m));
        drawdown.ByChip["H100"].ChipHours.ShouldBe(3m);
    }

    [Fact]
    public void A_page_of_events_folds_into_one_increment_per_bucket_at_each_of_the_four_grains()
    {
        var known = new DateTimeOffset(2025, 7, 11, 9, 0, 0, TimeSpan.Zero);
        JasperFx.Events.IEvent At(object data) => new JasperFx.Events.Event<object>(data) { Timestamp = known };

        var (rows, refused) = UsageBucketRows.Fold(
        [
            At(Consumed("a", 2m, 14m, July)),
            At(Consumed("b", 1m, 7m, July)),
            At(new UsageVoided("b", "deal", "AWS", "H100", "us-east-1", Figures(1m, 7m, July), "meter fault", July, "test")),
            At(Consumed("c", 1m, 7m, August)),
        ]);

        refused.ShouldBeEmpty();
        // Per grain: one July bucket (a, b and b's void together) and one August bucket.
        rows.Count.ShouldBe(8);
        foreach (var grain in UsageBucket.Delta.Grains)
        {
            var july = rows.Single(r => r.Grain == grain && r.Month == "2025-07");
            july.Amount.ShouldBe(14m);
            july.ChipHours.ShouldBe(2m);
            july.Records.ShouldBe(1);
            rows.Single(r => r.Grain == grain && r.Month == "2025-08").Amount.ShouldBe(7m);
        }
    }

    [Fact]
    public void Token_totals_past_the_range_of_long_are_kept_exactly()
    {
        // 10,000 records of 10^15 tokens, each inside the limits, sum to 10^19: long.MaxValue is about 9.2 × 10^18.
        var records = Enumerable.Range(0, 10_000).Select(i => (object)Consumed($"t-{i}", 1m, 7m, July, 1_000_000_000_000_000)).ToList();

        var july = Spend("AWS|H100|2025-07", [.. records])!;
        july.Tokens.ShouldBe(10_000_000_000_000_000_000m);
        july.TokenizedSpend.ShouldBe(Usd(70_000m));

        var known = new DateTimeOffset(2025, 7, 11, 9, 0, 0, TimeSpan.Zero);
        var buckets = UsageBucketRows.Fold(records.Select(r => (JasperFx.Events.IEvent)new JasperFx.Events.Event<object>(r) { Timestamp = known })).Rows;
        buckets.ShouldAllBe(b => b.Tokens == 10_000_000_000_000_000_000m);
    }
}
