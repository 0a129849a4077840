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

/// <summary>The figures of a usage record at one point of its life: what it counted and what it cost.</summary>
public sealed record UsageFigures(decimal ChipHours, Instant Start, Instant End, long? Tokens, Money PricePerChipHour, Money Amount, string RateSource);

/// <summary>
/// A stored usage record is withdrawn. It carries the figures it cancels, so every read model can reverse them
/// without a lookup; its valid time is the voided record's <c>Start</c>.
/// </summary>
public sealed record UsageVoided(
    string UsageId, string CommitmentId, string Provider, string Chip, string? Region, UsageFigures Voided,
    string Reason, Instant RecordedAt, string RecordedBy);

/// <summary>
/// A stored usage record's hours or window are corrected and re-priced. <see cref="Before"/> is cancelled and
/// <see cref="After"/> counted instead; its valid time is that of the record it changes (<c>Before.Start</c>).
/// </summary>
public sealed record UsageCorrected(
    string UsageId, string CommitmentId, string Provider, string Chip, string? Region, UsageFigures Before, UsageFigures After,
    string? Reason, Instant RecordedAt, string RecordedBy);
