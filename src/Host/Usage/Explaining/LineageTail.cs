using ComputeLedger.Host.Infrastructure;
using ComputeLedger.Projections.Usage;
using Marten;
using Marten.Events;

namespace ComputeLedger.Host.Usage.Explaining;

/// <summary>
/// The lineage entries of usage events the lineage rows do not hold yet (after the reader's mark), made by the same
/// pure step as the daemon's, so a lagging projection makes a read slower, never wrong. Bounded by the daemon's lag.
/// </summary>
public static class LineageTail
{
    public static async Task<List<LineageEntry>> After(IQuerySession session, long mark, Instant? knownFrom, Instant? knownBefore, CancellationToken ct)
    {
        var query = session.RecordedBefore(knownBefore, RecordedEvents.Usage).Where(e => e.Sequence > mark);
        if (knownFrom is { } from)
        {
            var cutoff = RecordedEvents.Cutoff(from);
            query = query.Where(e => e.Timestamp >= cutoff);
        }

        var events = await query.OrderBy(e => e.Sequence).ToListAsync(ct);
        return events.SelectMany(e => UsageLineage.Entries(e.Data, e.Sequence, e.Id, Instant.FromDateTimeOffset(e.Timestamp))).ToList();
    }

    /// <summary>
    /// Instant axes split at their boundary days: whole days before them (what buckets and counts hold), and the entries
    /// of the boundary days themselves (valid that day before asOf, or valid earlier and recorded that day before knownAt).
    /// </summary>
    public sealed record Split(TimeAxes WholeDays, BoundaryDays Days)
    {
        public bool HasBoundary => Days.ValidDay != Days.ValidBefore || Days.KnownDay != Days.KnownBefore;

        public bool OnBoundary(LineageEntry e) => Days.Holds(e.Delta);

        /// <summary>Inside both axes at all (whole days and boundary days).</summary>
        public bool Within(LineageEntry e) =>
            UsageLineage.Nanos(e.Delta.ValidAt) < Days.ValidBefore && UsageLineage.Nanos(e.Delta.KnownAt) < Days.KnownBefore;

        public static Split Of(TimeAxes axes)
        {
            var validDay = DayFloor(axes.ValidBefore);
            var knownDay = DayFloor(axes.KnownBefore);
            return new Split(new TimeAxes(validDay, knownDay), new BoundaryDays(Nanos(validDay), Nanos(axes.ValidBefore), Nanos(knownDay), Nanos(axes.KnownBefore)));
        }

        private static Instant? DayFloor(Instant? bound) => bound is { } b ? UsageLineage.DayStart(UsageBucket.DayOf(b)) : null;

        private static long Nanos(Instant? bound) => bound is { } b ? UsageLineage.Nanos(b) : long.MaxValue;
    }

    /// <summary>The boundary days summed as buckets: the rows' sums up to the reader's mark, then the tail's entries after it.</summary>
    public static async Task<List<UsageBucket>> BoundaryDaySums(IQuerySession session, LineageReader reader, Split split, TimeAxes axes, CancellationToken ct)
    {
        if (!split.HasBoundary)
        {
            return [];
        }

        var sums = await reader.BoundaryDaySums(split.Days, PackedRecordsJson.Pick, ct);
        var tail = await After(session, reader.Mark, null, axes.KnownBefore, ct);
        sums.AddRange(tail.Where(split.OnBoundary).Select(e => UsageBucket.Add(null, e.Delta, "dd")));
        return sums;
    }
}
