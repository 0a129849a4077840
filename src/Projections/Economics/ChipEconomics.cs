using ComputeLedger.Ledger.Catalog;
using ComputeLedger.Projections.Usage;

namespace ComputeLedger.Projections.Economics;

/// <summary>
/// One chip on one provider over a range of months: what was consumed and paid, measured against the chip's published
/// figures. A figure whose inputs are unknown (no published spec, no tokens, no H100 reference) is null, never 0.
/// </summary>
public sealed record ChipEconomicsRow(
    string Chip,
    string Provider,
    decimal ChipHours,
    Money Spend,
    Money? PricePerChipHour,
    decimal Tokens,
    Money? CostPer1MTokens,
    Money? ListCostPer1MTokens,
    decimal? Fp16Tflops,
    decimal? TflopsPerWatt,
    decimal? InferenceLatencyMs,
    decimal? H100EquivalentHours,
    Money? CostPerH100EquivalentHour,
    decimal? EnergyKWh,
    decimal? SavingVsH100,
    long Records);

/// <summary>The H100 the savings are measured against: every H100 hour in the same range and currency, on any provider.</summary>
public sealed record H100Reference(decimal ChipHours, Money Spend, Money? CostPerH100EquivalentHour, decimal? Fp16Tflops);

/// <summary>Pure arithmetic of the chip economics table, over summed spend rows and the specs in force.</summary>
public static class ChipEconomics
{
    public const string ReferenceChip = "H100";

    private const int Places = 6;

    /// <summary>
    /// One row per chip, provider and currency. <paramref name="spend"/> are the spend rows of the range (any provider);
    /// <paramref name="provider"/> keeps only that provider's rows, but the H100 reference is taken over all providers,
    /// so a provider without H100s still compares with what an H100 hour cost elsewhere.
    /// </summary>
    public static (IReadOnlyList<ChipEconomicsRow> Rows, IReadOnlyList<H100Reference> References) Compute(
        IEnumerable<ChipSpend> spend, string? provider, Func<string, ChipSpecs?> specsOf)
    {
        var groups = spend
            .GroupBy(r => (r.Chip, r.Provider, r.Spend.Currency))
            .Select(g => (g.Key.Chip, g.Key.Provider, g.Key.Currency,
                Hours: g.Sum(r => r.ChipHours), Amount: g.Sum(r => r.Spend.Amount), Tokens: g.Sum(r => r.Tokens),
                Tokenized: g.Sum(r => r.TokenizedSpend.Amount), Records: g.Sum(r => r.Records)))
            .ToList();

        var h100Tflops = specsOf(ReferenceChip)?.Fp16Tflops;
        var references = groups
            .Where(g => string.Equals(g.Chip, ReferenceChip, StringComparison.OrdinalIgnoreCase))
            .GroupBy(g => g.Currency)
            .Select(g => new H100Reference(g.Sum(x => x.Hours), new Money(g.Sum(x => x.Amount), g.Key),
                Divide(g.Sum(x => x.Amount), g.Sum(x => x.Hours)) is { } c ? new Money(c, g.Key) : null, h100Tflops))
            .ToList();

        var rows = groups
            .Where(g => string.IsNullOrEmpty(provider) || string.Equals(g.Provider, provider, StringComparison.Ordinal))
            .Select(g =>
            {
                var specs = specsOf(g.Chip);
                var tflops = specs?.Fp16Tflops;
                var h100Hours = tflops is { } t && h100Tflops is { } h ? Round(g.Hours * t / h) : null;
                var perEquivalent = h100Hours is { } eq ? Divide(g.Amount, eq) : null;
                var reference = references.FirstOrDefault(r => r.Spend.Currency == g.Currency)?.CostPerH100EquivalentHour?.Amount;
                decimal? saving = perEquivalent is { } mine && reference is { } theirs && theirs != 0 ? Round(1m - (mine / theirs)) : null;
                var energy = tflops is { } tf && specs?.TflopsPerWatt is { } perWatt ? Round(g.Hours * tf / perWatt / 1000m) : null;
                return new ChipEconomicsRow(
                    g.Chip, g.Provider, g.Hours, new Money(g.Amount, g.Currency),
                    AsMoney(Divide(g.Amount, g.Hours), g.Currency),
                    g.Tokens,
                    AsMoney(ChipSpend.CostPerMillion(g.Tokenized, g.Tokens), g.Currency),
                    specs?.ListCostPer1MTokens,
                    tflops, specs?.TflopsPerWatt, specs?.InferenceLatencyMs,
                    h100Hours, AsMoney(perEquivalent, g.Currency), energy, saving, g.Records);
            })
            .OrderBy(r => r.Chip, StringComparer.Ordinal).ThenBy(r => r.Provider, StringComparer.Ordinal)
            .ToList();
        return (rows, references);
    }

    private static Money? AsMoney(decimal? amount, string currency) => amount is { } a ? new Money(a, currency) : null;

    /// <summary>A quotient to the millionth; none when the divisor is 0 or the figure is beyond a decimal.</summary>
    private static decimal? Divide(decimal numerator, decimal denominator)
    {
        if (denominator == 0)
        {
            return null;
        }

        try
        {
            return Round(numerator / denominator);
        }
        catch (OverflowException)
        {
            return null;
        }
    }

    private static decimal? Round(decimal value) => decimal.Round(value, Places, MidpointRounding.AwayFromZero);
}
