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

/// <summary>
/// The records one accepted batch drew on one commitment: one event per (batch, commitment), on a stream of its own.
/// What every record shares is said once (commitment, provider, currency, the time it was recorded), and so is each
/// distinct rate applied (<see cref="Rates"/>; a record points at its rate by index): a batch of 1,000 records from
/// one meter typically carries one to three rates. Each record keeps its own <c>UsageId</c>, so dedupe, voids,
/// corrections, lineage and the export still address single records. Read it through <see cref="UsageEvents"/>.
/// </summary>
public sealed record UsageRecorded(
    string CommitmentId,
    string Provider,
    string Currency,
    Instant RecordedAt,
    IReadOnlyList<AppliedPrice> Rates,
    IReadOnlyList<RecordedUsage> Records);

/// <summary>A rate applied to records of a <see cref="UsageRecorded"/>: where it came from and the price per chip-hour.</summary>
public sealed record AppliedPrice(string Source, decimal Price);

/// <summary>One record of a <see cref="UsageRecorded"/>; <see cref="Rate"/> indexes the event's rates, the amount is rounded to the cent.</summary>
public sealed record RecordedUsage(string UsageId, string Chip, string? Region, decimal ChipHours, Instant Start, Instant End, long? Tokens, int Rate, decimal Amount);

/// <summary>
/// Usage events as the single records they carry. Older ledgers hold one <see cref="ChipHoursConsumed"/> per record;
/// newer ones one <see cref="UsageRecorded"/> per batch and commitment. Every fold reads both through
/// <see cref="Records"/>, which presents each record of a batch as the <see cref="ChipHoursConsumed"/> it stands for.
/// </summary>
public static class UsageEvents
{
    public static IEnumerable<object> Records(object @event) => @event is UsageRecorded batch ? batch.Consumptions() : [@event];

    public static IEnumerable<ChipHoursConsumed> Consumptions(this UsageRecorded batch)
    {
        foreach (var r in batch.Records)
        {
            var rate = batch.Rates[r.Rate];
            yield return new ChipHoursConsumed(r.UsageId, batch.CommitmentId, batch.Provider, r.Chip, r.Region, r.ChipHours, r.Start, r.End,
                r.Tokens, new Money(rate.Price, batch.Currency), new Money(r.Amount, batch.Currency), rate.Source, batch.RecordedAt);
        }
    }

    /// <summary>The batch event for accepted records of one commitment (all drawn on it, so one provider and one currency).</summary>
    public static UsageRecorded Batch(IReadOnlyList<ChipHoursConsumed> records, Instant recordedAt)
    {
        var first = records[0];
        var rates = new List<AppliedPrice>();
        var index = new Dictionary<(string, decimal), int>();
        var lines = new List<RecordedUsage>(records.Count);
        foreach (var c in records)
        {
            if (!index.TryGetValue((c.RateSource, c.PricePerChipHour.Amount), out var rate))
            {
                rate = index[(c.RateSource, c.PricePerChipHour.Amount)] = rates.Count;
                rates.Add(new AppliedPrice(c.RateSource, c.PricePerChipHour.Amount));
            }

            lines.Add(new RecordedUsage(c.UsageId, c.Chip, c.Region, c.ChipHours, c.Start, c.End, c.Tokens, rate, c.Amount.Amount));
        }

        return new UsageRecorded(first.CommitmentId, first.Provider, first.Amount.Currency, recordedAt, rates, lines);
    }
}

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
