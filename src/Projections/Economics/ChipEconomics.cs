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

        // Exact quotients inside, rounded to the millionth only on the way out, so a saving is not a ratio of rounded figures.
        var exactReference = new Dictionary<string, decimal>(StringComparer.Ordinal);
        var references = new List<H100Reference>();
        foreach (var g in groups.Where(g => string.Equals(g.Chip, ReferenceChip, StringComparison.OrdinalIgnoreCase)).GroupBy(g => g.Currency))
        {
            var (hours, amount) = (g.Sum(x => x.Hours), g.Sum(x => x.Amount));
            var perHour = Divide(amount, hours);
            if (perHour is { } p)
            {
                exactReference[g.Key] = p;
            }

            references.Add(new H100Reference(hours, new Money(amount, g.Key), AsMoney(Round(perHour), g.Key), h100Tflops));
        }

        var rows = groups
            .Where(g => string.IsNullOrEmpty(provider) || string.Equals(g.Provider, provider, StringComparison.Ordinal))
            .Select(g =>
            {
                var specs = specsOf(g.Chip);
                var tflops = specs?.Fp16Tflops;
                var h100Hours = tflops is { } t && h100Tflops is { } h ? Multiply(g.Hours, t / h) : null;
                var perEquivalent = h100Hours is { } eq ? Divide(g.Amount, eq) : null;
                decimal? saving = perEquivalent is { } mine && exactReference.TryGetValue(g.Currency, out var theirs) && theirs != 0
                    ? Round(1m - (mine / theirs))
                    : null;
                var energy = tflops is { } tf && specs?.TflopsPerWatt is { } perWatt ? Round(Multiply(g.Hours, tf / perWatt / 1000m)) : null;
                return new ChipEconomicsRow(
                    g.Chip, g.Provider, g.Hours, new Money(g.Amount, g.Currency),
                    AsMoney(Round(Divide(g.Amount, g.Hours)), g.Currency),
                    g.Tokens,
                    AsMoney(ChipSpend.CostPerMillion(g.Tokenized, g.Tokens), g.Currency),
                    specs?.ListCostPer1MTokens,
                    tflops, specs?.TflopsPerWatt, specs?.InferenceLatencyMs,
                    Round(h100Hours), AsMoney(Round(perEquivalent), g.Currency), energy, saving, g.Records);
            })
            .OrderBy(r => r.Chip, StringComparer.Ordinal).ThenBy(r => r.Provider, StringComparer.Ordinal)
            .ToList();
        return (rows, references);
    }

    private static Money? AsMoney(decimal? amount, string currency) => amount is { } a ? new Money(a, currency) : null;

    /// <summary>A quotient; none when the divisor is 0 or the figure is beyond a decimal.</summary>
    private static decimal? Divide(decimal numerator, decimal denominator)
    {
        if (denominator == 0)
        {
            return null;
        }

        try
        {
            return numerator / denominator;
        }
        catch (OverflowException)
        {
            return null;
        }
    }

    private static decimal? Multiply(decimal a, decimal b)
    {
        try
        {
            return a * b;
        }
        catch (OverflowException)
        {
            return null;
        }
    }

    private static decimal? Round(decimal? value) => value is { } v ? decimal.Round(v, Places, MidpointRounding.AwayFromZero) : null;
}
