using ComputeLedger.Ledger.Usage;
using JasperFx.Events;
using Marten.Events.Projections;

namespace ComputeLedger.Projections.Usage;

/// <summary>
/// Bitemporal snapshot of usage: every usage delta of one provider, chip, commitment and month whose valid time falls
/// on <see cref="ValidDay"/> and which was recorded on <see cref="KnownDay"/> (both UTC days since 1970-01-01).
/// Any as-of / known-at question on whole days is a sum over the buckets before both days, so its cost follows the
/// number of (key, valid day, known day) combinations, not the number of events.
/// </summary>
public sealed class UsageBucket
{
    public string Id { get; set; } = "";
    public string Provider { get; set; } = "";
    public string Chip { get; set; } = "";
    public string CommitmentId { get; set; } = "";
    public string Month { get; set; } = "";
    public int MonthIndex { get; set; }
    public int ValidDay { get; set; }
    public int KnownDay { get; set; }
    public string Currency { get; set; } = "";
    public decimal ChipHours { get; set; }
    public decimal Amount { get; set; }
    public long Tokens { get; set; }
    public decimal TokenizedAmount { get; set; }
    public long Records { get; set; }

    /// <summary>One signed contribution of an event to a bucket.</summary>
    public sealed record Delta(string Provider, string Chip, string CommitmentId, Instant CountedAt, Instant ValidAt, Instant KnownAt,
        decimal ChipHours, Money Amount, long? Tokens, int Records)
    {
        public string Key => $"{Provider}|{Chip}|{CommitmentId}|{Months.Of(CountedAt)}|{DayOf(ValidAt)}|{DayOf(KnownAt)}";
    }

    public static int DayOf(Instant instant) => (int)Math.Floor(instant.ToUnixTimeTicks() / (double)NodaConstants.TicksPerDay);

    /// <summary>
    /// The deltas of a usage event recorded at <paramref name="knownAt"/>: a consumption counts in its month; a void
    /// takes back the figures it cancels; a correction takes back the old figures and counts the new ones, both at the
    /// valid time of the record it changes.
    /// </summary>
    public static IEnumerable<Delta> Deltas(object @event, Instant knownAt) => @event switch
    {
        ChipHoursConsumed c => [new Delta(c.Provider, c.Chip, c.CommitmentId, c.Start, c.Start, knownAt, c.ChipHours, c.Amount, c.Tokens, 1)],
        UsageVoided v => [Negative(v.Provider, v.Chip, v.CommitmentId, v.Voided, v.Voided.Start, knownAt)],
        UsageCorrected c =>
        [
            Negative(c.Provider, c.Chip, c.CommitmentId, c.Before, c.Before.Start, knownAt),
            new Delta(c.Provider, c.Chip, c.CommitmentId, c.After.Start, c.Before.Start, knownAt, c.After.ChipHours, c.After.Amount, c.After.Tokens, 1),
        ],
        _ => [],
    };

    private static Delta Negative(string provider, string chip, string commitment, UsageFigures f, Instant validAt, Instant knownAt) =>
        new(provider, chip, commitment, f.Start, validAt, knownAt, -f.ChipHours, f.Amount.Times(-1), -f.Tokens, -1);

    public static UsageBucket Add(UsageBucket? bucket, Delta d)
    {
        var row = bucket ?? new UsageBucket
        {
            Id = d.Key,
            Provider = d.Provider,
            Chip = d.Chip,
            CommitmentId = d.CommitmentId,
            Month = Months.Of(d.CountedAt),
            MonthIndex = Months.IndexOf(d.CountedAt),
            ValidDay = DayOf(d.ValidAt),
            KnownDay = DayOf(d.KnownAt),
            Currency = d.Amount.Currency,
        };

        row.ChipHours += d.ChipHours;
        row.Amount += d.Amount.Amount;
        row.Records += d.Records;
        if (d.Tokens is { } tokens)
        {
            row.Tokens += tokens;
            row.TokenizedAmount += d.Amount.Amount;
        }

        return row;
    }
}

public sealed partial class UsageBucketProjection : MultiStreamProjection<UsageBucket, string>
{
    public UsageBucketProjection()
    {
        Identities<IEvent<ChipHoursConsumed>>(e => Keys(e.Data, e.Timestamp));
        Identities<IEvent<UsageVoided>>(e => Keys(e.Data, e.Timestamp));
        Identities<IEvent<UsageCorrected>>(e => Keys(e.Data, e.Timestamp));
    }

    private static IReadOnlyList<string> Keys(object data, DateTimeOffset timestamp) =>
        UsageBucket.Deltas(data, Instant.FromDateTimeOffset(timestamp)).Select(d => d.Key).Distinct().ToList();

    public override UsageBucket? Evolve(UsageBucket? snapshot, string id, IEvent e) =>
        UsageBucket.Deltas(e.Data, Instant.FromDateTimeOffset(e.Timestamp)).Where(d => d.Key == id).Aggregate(snapshot, UsageBucket.Add);
}
