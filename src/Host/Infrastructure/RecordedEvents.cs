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
            var cutoff = known.ToDateTimeOffset();
            query = query.Where(e => e.Timestamp < cutoff);
        }

        return query;
    }
}
