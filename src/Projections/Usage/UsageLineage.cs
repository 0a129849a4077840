using ComputeLedger.Ledger.Usage;

namespace ComputeLedger.Projections.Usage;

/// <summary>What a lineage entry is: a recorded consumption, a void, or one half of a correction.</summary>
public enum LineageKind : short
{
    /// <summary>A record of a <see cref="UsageRecorded"/> batch.</summary>
    Recorded = 0,

    /// <summary>A <see cref="ChipHoursConsumed"/> of an older ledger.</summary>
    Consumed = 1,

    /// <summary>A void: the figures it cancels, negated.</summary>
    Voided = 2,

    /// <summary>The old figures of a correction, negated.</summary>
    CorrectedFrom = 3,

    /// <summary>The new figures of a correction.</summary>
    CorrectedTo = 4,
}

/// <summary>
/// One signed contribution of a usage event to the figures: the event's <see cref="UsageBucket.Delta"/> with where it
/// sits in the log (sequence, then its index within the event) and which record it speaks for. <see cref="Firsts"/>
/// marks the entry that stands for its event in counts of events: bit 1 for the event's first entry (earliest valid
/// time, then lowest index) of its chip-month, bit 2 of its provider-month. Counting marked entries on any axes counts
/// each event whose contribution survives the axes exactly once, and such counts add up across pages and buckets.
/// </summary>
public sealed record LineageEntry(long Sequence, int Index, Guid EventId, string UsageId, LineageKind Kind, int Firsts, UsageBucket.Delta Delta)
{
    public const int FirstOfChipMonth = 1;
    public const int FirstOfProviderMonth = 2;

    /// <summary>The stable name of <see cref="UsageRecorded"/> in the log (mapped so in the host's configuration).</summary>
    public const string RecordedType = "usage_recorded";

    /// <summary>The stable name of the event the entry comes from.</summary>
    public string Type => Kind switch
    {
        LineageKind.Recorded => RecordedType,
        LineageKind.Consumed => "chip_hours_consumed",
        LineageKind.Voided => "usage_voided",
        _ => "usage_corrected",
    };

    /// <summary>+1 for a counted record, -1 for one taken back (as the buckets count records).</summary>
    public int Records => Kind is LineageKind.Voided or LineageKind.CorrectedFrom ? -1 : 1;
}

/// <summary>
/// The boundary days of instant axes, in nanoseconds since 1970, the bounds exclusive: a contribution is on them when it
/// is valid on the boundary valid day before asOf (<see cref="ValidDay"/> to <see cref="ValidBefore"/>) and known before
/// knownAt, or valid before that day and known on the boundary known day before knownAt (<see cref="KnownDay"/> to
/// <see cref="KnownBefore"/>). Whole days before both are what buckets and counts hold.
/// </summary>
public sealed record BoundaryDays(long ValidDay, long ValidBefore, long KnownDay, long KnownBefore)
{
    public bool Holds(long valid, long known) =>
        (valid >= ValidDay && valid < ValidBefore && known < KnownBefore) || (valid < ValidDay && known >= KnownDay && known < KnownBefore);

    public bool Holds(UsageBucket.Delta d) => Holds(UsageLineage.Nanos(d.ValidAt), UsageLineage.Nanos(d.KnownAt));

    /// <summary>
    /// The valid times, [From, Before) in nanoseconds, these days can hold of a contribution known at <paramref name="known"/>:
    /// the boundary valid day before asOf if it was known before the boundary known day, anything before asOf if known on
    /// that day before knownAt, and nothing (null) if known later.
    /// </summary>
    public (long From, long Before)? StartsHeldFor(long known) =>
        known >= KnownBefore ? null : known >= KnownDay ? (long.MinValue, ValidBefore) : (ValidDay, ValidBefore);
}

/// <summary>Pure: the lineage entries of one usage event, the same for the daemon and for a read of the tail it lacks.</summary>
public static class UsageLineage
{
    /// <summary>
    /// The deltas of one usage event on the boundary days: those of <see cref="Entries"/> that the days hold, in the same
    /// order, but a countable batch's records are picked by their start first, so the records outside the days (most of a
    /// batch that spans weeks) are never turned into entries. An instant's cost is then its boundary records, plus a scan.
    /// </summary>
    public static IEnumerable<UsageBucket.Delta> BoundaryDeltas(object data, Instant knownAt, BoundaryDays days) =>
        data is UsageRecorded batch
            ? Countable.Of(batch) == Countable.Verdict.Count ? BoundaryDeltas(batch, batch.Records, knownAt, days) : []
            : UsageBucket.Deltas(data, knownAt).Where(days.Holds);

    /// <summary>
    /// <see cref="BoundaryDeltas(object, Instant, BoundaryDays)"/> of a countable batch whose records are given apart
    /// from it: all of them, or only some picked by start from its stored form (the rest could not be on the days).
    /// </summary>
    public static IEnumerable<UsageBucket.Delta> BoundaryDeltas(UsageRecorded batch, IEnumerable<RecordedUsage> records, Instant knownAt, BoundaryDays days)
    {
        var known = Nanos(knownAt);
        return known < days.KnownBefore
            ? records.Where(r => days.Holds(Nanos(r.Start), known)).Select(r => UsageBucket.Recorded(batch, r, knownAt))
            : [];
    }

    public static IReadOnlyList<LineageEntry> Entries(object data, long sequence, Guid eventId, Instant knownAt)
    {
        if (Countable.Of(data) != Countable.Verdict.Count)
        {
            return [];
        }

        var recordKind = data is UsageRecorded ? LineageKind.Recorded : LineageKind.Consumed;
        var entries = new List<LineageEntry>(data is UsageRecorded batch ? batch.Records.Count : 2);
        foreach (var record in UsageEvents.Records(data))
        {
            var usageId = Countable.UsageIdOf(record) ?? "";
            var part = 0;
            foreach (var delta in UsageBucket.Deltas(record, knownAt))
            {
                var kind = record switch
                {
                    UsageVoided => LineageKind.Voided,
                    UsageCorrected => part == 0 ? LineageKind.CorrectedFrom : LineageKind.CorrectedTo,
                    _ => recordKind,
                };
                entries.Add(new LineageEntry(sequence, entries.Count, eventId, usageId, kind, 0, delta));
                part++;
            }
        }

        return Mark(entries);
    }

    private static List<LineageEntry> Mark(List<LineageEntry> entries)
    {
        var firstOfChipMonth = new Dictionary<(string, string, int), int>();
        var firstOfProviderMonth = new Dictionary<(string, int), int>();
        for (var i = 0; i < entries.Count; i++)
        {
            var d = entries[i].Delta;
            var month = Months.IndexOf(d.CountedAt);
            if (!firstOfChipMonth.TryGetValue((d.Provider, d.Chip, month), out var c) || d.ValidAt < entries[c].Delta.ValidAt)
            {
                firstOfChipMonth[(d.Provider, d.Chip, month)] = i;
            }

            if (!firstOfProviderMonth.TryGetValue((d.Provider, month), out var p) || d.ValidAt < entries[p].Delta.ValidAt)
            {
                firstOfProviderMonth[(d.Provider, month)] = i;
            }
        }

        foreach (var i in firstOfChipMonth.Values)
        {
            entries[i] = entries[i] with { Firsts = entries[i].Firsts | LineageEntry.FirstOfChipMonth };
        }

        foreach (var i in firstOfProviderMonth.Values)
        {
            entries[i] = entries[i] with { Firsts = entries[i].Firsts | LineageEntry.FirstOfProviderMonth };
        }

        return entries;
    }

    /// <summary>Nanoseconds since 1970: how valid and known times are stored, exact (timestamptz keeps microseconds).</summary>
    public static long Nanos(Instant instant) => (instant - NodaConstants.UnixEpoch).ToInt64Nanoseconds();

    public static Instant FromNanos(long nanos) => NodaConstants.UnixEpoch + Duration.FromNanoseconds(nanos);

    /// <summary>The first instant of a month given by <see cref="Months.Index"/>.</summary>
    public static Instant MonthStart(int monthIndex) =>
        new LocalDate(monthIndex / 12, (monthIndex % 12) + 1, 1).AtStartOfDayInZone(DateTimeZone.Utc).ToInstant();

    /// <summary>The first instant of a day given by <see cref="UsageBucket.DayOf"/>.</summary>
    public static Instant DayStart(int day) => Instant.FromUnixTimeTicks(day * NodaConstants.TicksPerDay);
}
