using ComputeLedger.Ledger;
using ComputeLedger.Ledger.Catalog;
using ComputeLedger.Projections.Economics;
using ComputeLedger.Projections.Usage;
using NodaTime;
using Shouldly;

namespace ComputeLedger.Projections.Tests.Economics;

/// <summary>The chip economics table's arithmetic, without a database: sums over months, the H100 reference, nulls.</summary>
public class Chip_economics_arithmetic
{
    private static ChipSpend Row(string chip, string provider, string month, decimal hours, decimal spend, decimal tokens = 0m, decimal tokenized = 0m) => new()
    {
        Id = $"{provider}|{chip}|{month}",
        Chip = chip,
        Provider = provider,
        Month = month,
        ChipHours = hours,
        Spend = new Money(spend, "USD"),
        Tokens = tokens,
        TokenizedSpend = new Money(tokenized, "USD"),
        Records = 1,
    };

    private static readonly Dictionary<string, ChipSpecs> Specs = new()
    {
        ["H100"] = new ChipSpecs(1000m, null, new Money(2m, "USD"), 2m, "test"),
        ["Trainium2"] = new ChipSpecs(800m, null, new Money(1.5m, "USD"), 2.1m, "test"),
        ["Inferentia2"] = new ChipSpecs(null, 45m, new Money(0.8m, "USD"), 3.4m, "test"),
    };

    [Fact]
    public void Months_are_summed_and_figures_follow_the_H100_reference()
    {
        var (rows, references) = ChipEconomics.Compute(
            [
                Row("H100", "Azure", "2025-07", 30m, 240m), Row("H100", "Azure", "2025-08", 20m, 160m),
                Row("Trainium2", "AWS", "2025-07", 60m, 240m), Row("Trainium2", "AWS", "2025-08", 60m, 240m),
                Row("Inferentia2", "AWS", "2025-07", 40m, 50m, 50_000_000m, 50m),
                Row("L40S", "Azure", "2025-07", 10m, 20m),
            ],
            null, chip => Specs.GetValueOrDefault(chip));

        references.Single().CostPerH100EquivalentHour.ShouldBe(new Money(8m, "USD"));
        var trainium = rows.Single(r => r.Chip == "Trainium2");
        trainium.ChipHours.ShouldBe(120m);
        trainium.H100EquivalentHours.ShouldBe(96m);
        trainium.CostPerH100EquivalentHour.ShouldBe(new Money(5m, "USD"));
        trainium.SavingVsH100.ShouldBe(0.375m);
        trainium.EnergyKWh.ShouldBe(45.714286m);

        var inferentia = rows.Single(r => r.Chip == "Inferentia2");
        inferentia.CostPer1MTokens.ShouldBe(new Money(1m, "USD"));
        inferentia.H100EquivalentHours.ShouldBeNull();
        inferentia.SavingVsH100.ShouldBeNull();
        inferentia.EnergyKWh.ShouldBeNull();

        var l40s = rows.Single(r => r.Chip == "L40S");
        l40s.PricePerChipHour.ShouldBe(new Money(2m, "USD"));
        l40s.Fp16Tflops.ShouldBeNull();
        l40s.ListCostPer1MTokens.ShouldBeNull();
        l40s.CostPer1MTokens.ShouldBeNull();
    }

    [Fact]
    public void Without_H100_figures_or_hours_nothing_is_compared()
    {
        var noHours = ChipEconomics.Compute([Row("Trainium2", "AWS", "2025-07", 100m, 400m)], null, chip => Specs.GetValueOrDefault(chip)).Rows.Single();
        noHours.H100EquivalentHours.ShouldBe(80m);
        noHours.SavingVsH100.ShouldBeNull();

        var noFigure = ChipEconomics.Compute([Row("Trainium2", "AWS", "2025-07", 100m, 400m), Row("H100", "Azure", "2025-07", 10m, 80m)], null,
            chip => chip == "H100" ? null : Specs.GetValueOrDefault(chip)).Rows.Single(r => r.Chip == "Trainium2");
        noFigure.H100EquivalentHours.ShouldBeNull();
        noFigure.SavingVsH100.ShouldBeNull();
        noFigure.EnergyKWh.ShouldBe(38.095238m);   // TFLOPS and TFLOPS per watt are the chip's own
    }

    [Fact]
    public void The_figures_in_force_are_the_latest_effective_by_the_date_among_those_known()
    {
        var first = new ChipSpecsPublished("T", new LocalDate(2024, 1, 1), Specs["Trainium2"], Instant.FromUtc(2025, 1, 1, 0, 0), "a");
        var later = new ChipSpecsPublished("T", new LocalDate(2025, 9, 1), Specs["Trainium2"] with { Fp16Tflops = 900m }, Instant.FromUtc(2025, 8, 20, 0, 0), "a");
        ChipSpecBook.InForce([first, later], new LocalDate(2025, 8, 31), null).ShouldBe(first);
        ChipSpecBook.InForce([first, later], new LocalDate(2025, 9, 1), null).ShouldBe(later);
        ChipSpecBook.InForce([first, later], new LocalDate(2025, 9, 1), Instant.FromUtc(2025, 8, 20, 0, 0)).ShouldBe(first);
        ChipSpecBook.InForce([first, later], new LocalDate(2023, 12, 31), null).ShouldBeNull();
        PublishChipSpecs.Decide("T", later.EffectiveFrom, later.Specs, [first, later], Instant.FromUtc(2026, 1, 1, 0, 0), "a").ShouldBeEmpty();
    }
}
