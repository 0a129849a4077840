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
    public (ChipRate Rate, RateCardPublished Card)? InForce(string chip, string? region, Instant at)
    {
        var day = at.InUtc().Date;
        (ChipRate, RateCardPublished)? best = null;
        foreach (var card in Cards)
        {
            if (card.EffectiveFrom > day || (best is { } b && card.EffectiveFrom < b.Item2.EffectiveFrom))
            {
                continue;
            }

            foreach (var rate in card.Rates)
            {
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
        var candidates = new (RateBook Book, string? Region, string Source)[]
        {
            (overrides, region, "commitment"),
            (overrides, null, "commitment"),
            (provider, region, "provider"),
            (provider, null, "provider"),
        };

        foreach (var (book, r, source) in candidates)
        {
            if (book.InForce(chip, r, at) is { } hit)
            {
                return new AppliedRate(hit.Rate.PricePerChipHour, $"{source}:{hit.Card.EffectiveFrom:yyyy-MM-dd}:{r ?? "any"}", hit.Card.EffectiveFrom);
            }
        }

        return null;
    }
}
