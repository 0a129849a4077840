namespace ComputeLedger.Ledger.Usage;

/// <summary>
/// One metered usage record, accepted and priced. Its valid time is <see cref="Start"/>; the amount is
/// chip-hours × the applied price, rounded to the cent once here so every sum downstream is exact.
/// </summary>
public sealed record ChipHoursConsumed(
    string UsageId,
    string CommitmentId,
    string Provider,
    string Chip,
    string? Region,
    decimal ChipHours,
    Instant Start,
    Instant End,
    long? Tokens,
    Money PricePerChipHour,
    Money Amount,
    string RateSource,
    Instant RecordedAt);
