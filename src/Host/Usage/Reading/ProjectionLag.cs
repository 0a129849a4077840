using System.Globalization;
using JasperFx.Events.Projections;
using Marten;

namespace ComputeLedger.Host.Usage.Reading;

/// <summary>
/// How far an async read model is behind the event log: the last sequence it folded (Marten's progress of the
/// projection), the newest sequence written, and how old the oldest event it has not folded yet is. All three come
/// through Marten's API; nothing here reads Marten's tables.
/// </summary>
public sealed record ProjectionLag(string Projection, long LastProcessedSequence, long HighWaterMark, double SecondsBehind)
{
    public static async Task<ProjectionLag> Of(IQuerySession session, string projection, Instant now, HttpResponse? response, CancellationToken ct)
    {
        var processed = await Processed(session, projection, ct);
        var newest = await session.Events.QueryAllRawEvents().OrderByDescending(e => e.Sequence).FirstOrDefaultAsync(ct);
        var high = newest?.Sequence ?? 0;
        var oldestUnprocessed = processed >= high
            ? null
            : await session.Events.QueryAllRawEvents().Where(e => e.Sequence > processed).OrderBy(e => e.Sequence).FirstOrDefaultAsync(ct);
        var behind = oldestUnprocessed is null
            ? 0
            : Math.Max(0, (now - Instant.FromDateTimeOffset(oldestUnprocessed.Timestamp)).TotalSeconds);

        var lag = new ProjectionLag(projection, processed, high, Math.Round(behind, 3));
        if (response is not null)
        {
            lag.WriteTo(response);
        }

        return lag;
    }

    /// <summary>The lag as response headers, so a client can judge freshness without parsing the body.</summary>
    public void WriteTo(HttpResponse response)
    {
        response.Headers["X-Projection-Last-Sequence"] = LastProcessedSequence.ToString(CultureInfo.InvariantCulture);
        response.Headers["X-Projection-High-Water-Mark"] = HighWaterMark.ToString(CultureInfo.InvariantCulture);
        response.Headers["X-Projection-Lag-Seconds"] = SecondsBehind.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>The last sequence an async projection (or a member of a composite) has folded; 0 before its first batch.</summary>
    public static Task<long> Processed(IQuerySession session, string projection, CancellationToken ct) =>
        session.DocumentStore.Advanced.ProjectionProgressFor(new ShardName(projection), token: ct);
}
