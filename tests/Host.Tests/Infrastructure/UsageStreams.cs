using ComputeLedger.Ledger.Usage;
using Marten;
using NodaTime;

namespace ComputeLedger.Host.Tests.Infrastructure;

/// <summary>
/// Writes usage the way a ledger did before batch events: one <see cref="ChipHoursConsumed"/> per record, on brand-new
/// streams, with one multi-row insert into Marten's mt_streams and one into mt_events, queued on the session. Tests use
/// it to build older and mixed histories of any size quickly. (Ingest itself used it until usage became one
/// <c>UsageRecorded</c> per batch and commitment; with one event row per batch Marten's own append costs nothing worth saving.)
/// The rows are the ones Marten writes for <c>session.Events.StartStream</c> (its serializer, type alias and .NET type
/// name, default tenant, sequence, the ledger clock's timestamp); <c>Storing_usage_streams_set_based</c> holds the two
/// side by side, so the histories built here are ones Marten reads as its own.
/// </summary>
public static class UsageStreams
{
    public static void Start(IDocumentSession session, IReadOnlyList<(string StreamId, IReadOnlyList<ChipHoursConsumed> Events)> streams,
        Instant now)
    {
        var events = streams.Sum(s => s.Events.Count);
        if (events == 0)
        {
            return;
        }

        var options = ((DocumentStore)session.DocumentStore).Options;
        var schema = options.Events.DatabaseSchemaName;
        var mapping = ((Marten.Events.EventGraph)options.Events).EventMappingFor(typeof(ChipHoursConsumed));
        var serializer = options.Serializer();

        var ids = new Guid[events];
        var streamIds = new string[events];
        var versions = new long[events];
        var bodies = new string[events];
        var i = 0;
        foreach (var (streamId, stream) in streams)
        {
            for (var v = 0; v < stream.Count; v++, i++)
            {
                ids[i] = Guid.CreateVersion7(now.ToDateTimeOffset());
                streamIds[i] = streamId;
                versions[i] = v + 1;
                bodies[i] = serializer.ToJson(stream[v]);
            }
        }

        // Queued on the session, these run in its SaveChanges batch, in the transaction that holds the claims.
        session.QueueSqlCommand($"""
            insert into {schema}.mt_streams (id, type, version, timestamp, tenant_id)
            select id, null, version, now(), ? from unnest(?::varchar[], ?::bigint[]) as s(id, version)
            """, session.TenantId, streams.Select(s => s.StreamId).ToArray(), streams.Select(s => (long)s.Events.Count).ToArray());
        // Rows come out of unnest in array order, so each stream's versions take ascending sequence numbers.
        session.QueueSqlCommand($"""
            insert into {schema}.mt_events (seq_id, id, stream_id, version, data, type, tenant_id, timestamp, mt_dotnet_type, is_archived)
            select nextval('{schema}.mt_events_sequence'), id, stream_id, version, data, ?, ?, ?, ?, false
            from unnest(?::uuid[], ?::varchar[], ?::bigint[], ?::jsonb[]) as e(id, stream_id, version, data)
            """, mapping.EventTypeName, session.TenantId, now.ToDateTimeOffset(), mapping.DotNetTypeName, ids, streamIds, versions, bodies);
    }
}
