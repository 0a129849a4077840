using ComputeLedger.Host.Infrastructure;
using ComputeLedger.Host.Usage.Explaining;
using ComputeLedger.Ledger.Usage;
using ComputeLedger.Projections.Usage;
using Marten;
using Marten.Events;

namespace ComputeLedger.Host.Usage.Reading;

/// <summary>
/// The usage views on both time axes. "Now" reads the async read models. asOf/knownAt given as dates (whole UTC days)
/// sum the bitemporal buckets before both days and fold only the tail of events the bucket projection has not reached
/// yet, so the cost does not grow with history. An instant inside a day is finer than a bucket: the buckets are summed
/// up to its day and the day's own contributions added from the lineage rows, so the cost is one day's events.
/// </summary>
public static class UsageHistory
{
    public static async Task<UsageViews> Views(IQuerySession session, TimeAxes axes, CancellationToken ct, ReplayProgress? progress = null)
    {
        if (axes.IsNow)
        {
            return new UsageViews(
                (await session.Query<ChipSpend>().ToListAsync(ct)).ToDictionary(r => r.Id),
                (await session.Query<ProviderRevenue>().ToListAsync(ct)).ToDictionary(r => r.Id),
                (await session.Query<Drawdown>().ToListAsync(ct)).ToDictionary(r => r.Id),
                new Dictionary<string, (decimal, long)>());
        }

        if (IsWholeDay(axes.ValidBefore) && IsWholeDay(axes.KnownBefore))
        {
            return UsageBuckets.Sum(await Buckets(session, axes, ct));
        }

        // An instant is finer than a bucket: sum the buckets up to its day, then add that day's own contributions (valid
        // that day before asOf, or valid earlier and recorded that day before knownAt), read from the lineage rows by
        // time and completed with the events after their mark. The cost is one day's events, not the history's; of the
        // valid day's, those of closed known days are summed by hour instead of replayed (KnownDayHours).
        var split = LineageTail.Split.Of(axes);
        var buckets = await Buckets(session, split.WholeDays, ct);
        List<UsageBucket> boundary;
        await using (var reader = await LineageReader.Open(session, ct))
        {
            boundary = await LineageTail.BoundaryDaySums(session, reader, split, axes, ct);
        }

        progress?.Finished(boundary.Count);
        return UsageBuckets.Sum(buckets.Concat(boundary));
    }

    /// <summary>
    /// Whether an exclusive bound falls on midnight UTC, to the nanosecond: the instant 2025-07-20T00:00:00Z is the bound
    /// midnight + 1 ns, which a bucket cannot express (ticks would round it to the whole day and drop that instant).
    /// </summary>
    public static bool IsWholeDay(Instant? bound) => bound is not { } b || UsageLineage.Nanos(b) % NodaConstants.NanosecondsPerDay == 0;

    /// <summary>The views summed from the buckets (and the tail the bucket projection has not reached), on whole-day axes.</summary>
    public static async Task<UsageViews> FromBuckets(IQuerySession session, TimeAxes axes, CancellationToken ct) =>
        UsageBuckets.Sum(await Buckets(session, axes, ct));

    /// <summary>The buckets before both whole-day bounds, summed per key, and the tail the bucket projection has not reached.</summary>
    private static async Task<IEnumerable<UsageBucket>> Buckets(IQuerySession session, TimeAxes axes, CancellationToken ct)
    {
        var validBound = UnitBound.Of(axes.ValidBefore);
        var knownBound = UnitBound.Of(axes.KnownBefore);

        // The buckets and the mark of what they hold must belong together, or an event would be counted twice or
        // not at all: read the mark on both sides of the buckets and retry if the daemon committed in between.
        long processed;
        IReadOnlyList<UsageBucket> buckets;
        var attempts = 0;
        do
        {
            processed = await ProjectionLag.Processed(session, Configuration.BucketProjection, ct);
            buckets = await UsageBucketRows.Sum(session, validBound, knownBound, ct);
        }
        while (await ProjectionLag.Processed(session, Configuration.BucketProjection, ct) != processed && ++attempts < 20);

        var tailQuery = session.RecordedBefore(axes.KnownBefore, RecordedEvents.Usage).Where(e => e.Sequence > processed);
        var tail = (await tailQuery.OrderBy(e => e.Sequence).ToListAsync(ct))
            .SelectMany(e => UsageBucket.Deltas(e.Data, Instant.FromDateTimeOffset(e.Timestamp)))
            .Where(d => axes.ValidBefore is not { } before || d.ValidAt < before)
            .Select(d => UsageBucket.Add(null, d, "dd"));
        return buckets.Concat(tail);
    }
}
