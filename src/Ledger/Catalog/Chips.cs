namespace ComputeLedger.Ledger.Catalog;

/// <summary>A chip family the ledger can price and meter. Chips are data: admins add them, nothing is an enum.</summary>
public sealed record ChipDefinition(string Name, string Vendor, string Purpose, string? Description)
{
    /// <summary>What a chip is for; <c>general</c> when not said.</summary>
    public static readonly IReadOnlyList<string> Purposes = ["training", "inference", "general"];
}

/// <summary>A chip joined the catalog.</summary>
public sealed record ChipAdded(ChipDefinition Chip, Instant RecordedAt, string RecordedBy);

/// <summary>One price line of a rate card. A null <see cref="Region"/> means any region.</summary>
public sealed record ChipRate(string Chip, string? Region, Money PricePerChipHour);

/// <summary>
/// A provider's rate card, or a commitment's negotiated overrides when <see cref="CommitmentId"/> is set,
/// in force from the start (UTC) of <see cref="EffectiveFrom"/> until a later card for the same chip and region.
/// </summary>
public sealed record RateCardPublished(
    string Provider,
    string? CommitmentId,
    LocalDate EffectiveFrom,
    IReadOnlyList<ChipRate> Rates,
    Instant RecordedAt,
    string RecordedBy);
