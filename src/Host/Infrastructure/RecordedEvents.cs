using ComputeLedger.Ledger.Usage;
using JasperFx.Events;
using Marten;
using Marten.Events;

namespace ComputeLedger.Host.Infrastructure;

/// <summary>The known-time axis in one place: the events of some types the ledger had recorded before a cut-off.</summary>
public static class RecordedEvents
{
    public static readonly Type[] Usage = [typeof(UsageRecorded), typeof(ChipHoursConsumed), typeof(UsageVoided), typeof(UsageCorrected)];

    public static IQueryable<IEvent> RecordedBefore(this IQuerySession session, Instant? knownBefore, params Type[] types)
    {
        var query = session.Events.QueryAllRawEvents().Where(e => e.EventTypesAre(types));
        if (knownBefore is { } known)
        {
            var cutoff = Cutoff(known);
            query = query.Where(e => e.Timestamp < cutoff);
        }

        return query;
    }

    /// <summary>
    /// An exclusive known-time bound as a timestamp to compare with, rounded up to the microsecond: an instant knownAt is
    /// the bound instant + 1 ns, and PostgreSQL (timestamps in microseconds) would otherwise receive it truncated and
    /// leave out an event recorded exactly at the instant.
    /// </summary>
    public static DateTimeOffset Cutoff(Instant bound)
    {
        var nanos = (bound - NodaConstants.UnixEpoch).ToInt64Nanoseconds();
        var micros = (nanos / 1000) + (nanos % 1000 > 0 ? 1 : 0);
        return Instant.FromUnixTimeTicks(micros * 10).ToDateTimeOffset();
    }
}
