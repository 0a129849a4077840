namespace ComputeLedger.Ledger.Catalog;

/// <summary>
/// A chip's published figures, each null when not known (an unknown figure is never 0). <see cref="Source"/> says whose
/// figures they are (a vendor's sheet, a benchmark, an article).
/// </summary>
public sealed record ChipSpecs(
    decimal? Fp16Tflops,
    decimal? InferenceLatencyMs,
    Money? ListCostPer1MTokens,
    decimal? TflopsPerWatt,
    string? Source);

/// <summary>A chip's figures, in force from the start (UTC) of <see cref="EffectiveFrom"/> until a later publication.</summary>
public sealed record ChipSpecsPublished(string Chip, LocalDate EffectiveFrom, ChipSpecs Specs, Instant RecordedAt, string RecordedBy);

/// <summary>Which publication of a chip's figures applies on a business date, as known before an instant. Pure.</summary>
public static class ChipSpecBook
{
    /// <summary>
    /// The publication with the latest <c>EffectiveFrom</c> on or before <paramref name="on"/> (any date when null) among
    /// those recorded before <paramref name="knownBefore"/> (all when null); of equal dates the later recorded wins.
    /// </summary>
    public static ChipSpecsPublished? InForce(IEnumerable<ChipSpecsPublished> published, LocalDate? on, Instant? knownBefore)
    {
        ChipSpecsPublished? best = null;
        foreach (var p in published)
        {
            if ((on is { } day && p.EffectiveFrom > day) || (knownBefore is { } known && p.RecordedAt >= known))
            {
                continue;
            }

            if (best is null || p.EffectiveFrom >= best.EffectiveFrom)
            {
                best = p;
            }
        }

        return best;
    }
}

/// <summary>Publishing a chip's figures: a publication identical to the one already in force from that date adds nothing.</summary>
public static class PublishChipSpecs
{
    public static IReadOnlyList<object> Decide(string chip, LocalDate effectiveFrom, ChipSpecs specs, IReadOnlyList<ChipSpecsPublished> existing, Instant now, string by) =>
        ChipSpecBook.InForce(existing, effectiveFrom, null) is { } current && current.EffectiveFrom == effectiveFrom && current.Specs == specs
            ? []
            : [new ChipSpecsPublished(chip, effectiveFrom, specs, now, by)];
}
