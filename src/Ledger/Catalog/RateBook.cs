namespace ComputeLedger.Ledger.Catalog;

/// <summary>The price applied to a usage record and where it came from, for lineage.</summary>
public sealed record AppliedRate(Money PricePerChipHour, string Source, LocalDate EffectiveFrom);

/// <summary>
/// Every rate card of one scope (a provider, or one commitment's overrides), each line effective-dated on its own.
/// Pricing is pure: the same book, chip, region and instant always give the same rate.
/// </summary>
public sealed record RateBook(IReadOnlyList<RateCardPublished> Cards)
{
    public static readonly RateBook Empty = new([]);

    public RateBook With(RateCardPublished card) => new([.. Cards, card]);

    /// <summary>The line in force at <paramref name="at"/> for exactly this chip and region (null region: the "any" line).</summary>
    public (ChipRate Rate, RateCardPublished Card)? InForce(string chip, string? region, Instant at) => InForce(chip, region, at.InUtc().Date);

    /// <summary>The line in force on <paramref name="day"/> (UTC) for exactly this chip and region.</summary>
    public (ChipRate Rate, RateCardPublished Card)? InForce(string chip, string? region, LocalDate day)
    {
        // Indexed loops: a foreach over the interfaces boxes an enumerator per card, for every record priced.
        (ChipRate, RateCardPublished)? best = null;
        for (var c = 0; c < Cards.Count; c++)
        {
            var card = Cards[c];
            if (card.EffectiveFrom > day || (best is { } b && card.EffectiveFrom < b.Item2.EffectiveFrom))
            {
                continue;
            }

            for (var r = 0; r < card.Rates.Count; r++)
            {
                var rate = card.Rates[r];
                if (string.Equals(rate.Chip, chip, StringComparison.OrdinalIgnoreCase)
                    && string.Equals(rate.Region, region, StringComparison.OrdinalIgnoreCase))
                {
                    // Later-recorded cards with the same effective date supersede earlier ones.
                    best = (rate, card);
                }
            }
        }

        return best;
    }

    /// <summary>
    /// The rate for a record: the commitment's override beats the provider card; within each, an exact region beats "any".
    /// Null when nothing applies.
    /// </summary>
    public static AppliedRate? Price(RateBook provider, RateBook overrides, string chip, string? region, Instant at)
    {
        var day = at.InUtc().Date;
        return Applied(overrides.InForce(chip, region, day), "commitment", region)
            ?? Applied(overrides.InForce(chip, null, day), "commitment", null)
            ?? Applied(provider.InForce(chip, region, day), "provider", region)
            ?? Applied(provider.InForce(chip, null, day), "provider", null);
    }

    private static AppliedRate? Applied((ChipRate Rate, RateCardPublished Card)? hit, string scope, string? region) =>
        hit is { } h ? new AppliedRate(h.Rate.PricePerChipHour, Source(scope, h.Card.EffectiveFrom, region), h.Card.EffectiveFrom) : null;

    /// <summary>
    /// <c>scope:yyyy-MM-dd:region</c> (or <c>:any</c>). Every record of a batch priced by the same line has the same
    /// source, so the text is made once and kept (a bounded memo: it is cleared when it holds 4,096 sources).
    /// </summary>
    private static string Source(string scope, LocalDate effectiveFrom, string? region)
    {
        var key = (scope, effectiveFrom, region);
        if (!Sources.TryGetValue(key, out var source))
        {
            if (Sources.Count >= 4096)
            {
                Sources.Clear();
            }

            source = Sources[key] = $"{scope}:{effectiveFrom:yyyy-MM-dd}:{region ?? "any"}";
        }

        return source;
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(string, LocalDate, string?), string> Sources = new();
}
