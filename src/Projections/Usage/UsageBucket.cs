using ComputeLedger.Ledger.Usage;
using JasperFx.Events;
using Marten.Events.Projections;

namespace ComputeLedger.Projections.Usage;

/// <summary>
/// Bitemporal snapshot of usage: the usage deltas of one provider, chip, commitment and month whose valid time falls in
/// one valid unit and which were recorded in one known unit. Each delta is kept at four grains: (valid day, known day),
/// (valid month, known day), (valid day, known month), (valid month, known month). An as-of / known-at question on whole
/// days sums whole months where it can and days only inside the two boundary months, so it reads at most about
/// (months + 31) × (months + 31) rows per key, however many events there are.
/// </summary>
public sealed class UsageBucket
{
    public string Id { get; set; } = "";
    public string Provider { get; set; } = "";
    public string Chip { get; set; } = "";
    public string CommitmentId { get; set; } = "";
    public string Month { get; set; } = "";
    public int MonthIndex { get; set; }
    /// <summary>"dd", "md", "dm" or "mm": the grain of the valid unit, then of the known unit (d = UTC day, m = month).</summary>
    public string Grain { get; set; } = "";

    /// <summary>Days since 1970-01-01 when the valid grain is d; <see cref="Months.Index"/> when it is m.</summary>
    public int ValidUnit { get; set; }

    /// <summary>Days since 1970-01-01 when the known grain is d; <see cref="Months.Index"/> when it is m.</summary>
    public int KnownUnit { get; set; }
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
        public static readonly string[] Grains = ["dd", "md", "dm", "mm"];

        public int ValidUnit(string grain) => grain[0] == 'd' ? DayOf(ValidAt) : Months.IndexOf(ValidAt);

        public int KnownUnit(string grain) => grain[1] == 'd' ? DayOf(KnownAt) : Months.IndexOf(KnownAt);

        public string Key(string grain) => $"{Provider}|{Chip}|{CommitmentId}|{Months.Of(CountedAt)}|{grain}|{ValidUnit(grain)}|{KnownUnit(grain)}";

        public IEnumerable<string> Keys => Grains.Select(Key);
    }

    /// <summary>UTC days since 1970-01-01, rounded down (also before 1970).</summary>
    public static int DayOf(Instant instant)
    {
        var ticks = instant.ToUnixTimeTicks();
        var day = ticks / NodaConstants.TicksPerDay;
        return (int)(ticks % NodaConstants.TicksPerDay < 0 ? day - 1 : day);
    }

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

    public static UsageBucket Add(UsageBucket? bucket, Delta d, string grain)
    {
        var row = bucket ?? new UsageBucket
        {
            Id = d.Key(grain),
            Provider = d.Provider,
            Chip = d.Chip,
            CommitmentId = d.CommitmentId,
            Month = Months.Of(d.CountedAt),
            MonthIndex = Months.IndexOf(d.CountedAt),
            Grain = grain,
            ValidUnit = d.ValidUnit(grain),
            KnownUnit = d.KnownUnit(grain),
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
    public const string ProjectionName = "UsageBuckets";

    public UsageBucketProjection()
    {
        Name = ProjectionName;
        Identities<IEvent<ChipHoursConsumed>>(e => Keys(e.Data, e.Timestamp));
        Identities<IEvent<UsageVoided>>(e => Keys(e.Data, e.Timestamp));
        Identities<IEvent<UsageCorrected>>(e => Keys(e.Data, e.Timestamp));
    }

    private static IReadOnlyList<string> Keys(object data, DateTimeOffset timestamp) =>
        UsageBucket.Deltas(data, Instant.FromDateTimeOffset(timestamp)).SelectMany(d => d.Keys).Distinct().ToList();

    // Called once per (event, bucket): the bucket's grain is read off its id, so only that grain's key is built.
    // The daemon runs this for every usage event four times; string building is its main cost.
    public override UsageBucket? Evolve(UsageBucket? snapshot, string id, IEvent e)
    {
        var grain = snapshot?.Grain ?? GrainOf(id);
        foreach (var delta in UsageBucket.Deltas(e.Data, Instant.FromDateTimeOffset(e.Timestamp)))
        {
            if (delta.Key(grain) == id)
            {
                snapshot = UsageBucket.Add(snapshot, delta, grain);
            }
        }

        return snapshot;
    }

    // Ids end with |grain|validUnit|knownUnit.
    private static string GrainOf(string id)
    {
        var end = id.LastIndexOf('|', id.LastIndexOf('|') - 1);
        var start = id.LastIndexOf('|', end - 1) + 1;
        return id[start..end];
    }
}
