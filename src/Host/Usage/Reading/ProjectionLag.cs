using Marten;
using Npgsql;

namespace ComputeLedger.Host.Usage.Reading;

/// <summary>
/// How far an async read model is behind the event log: the last sequence it folded, the newest sequence written,
/// and how old the oldest event it has not folded yet is.
/// </summary>
public sealed record ProjectionLag(string Projection, long LastProcessedSequence, long HighWaterMark, double SecondsBehind)
{
    public static async Task<ProjectionLag> Of(IQuerySession session, string projection, Instant now, HttpResponse? response, CancellationToken ct)
    {
        var schema = session.DocumentStore.Options.Events.DatabaseSchemaName;
        await using var connection = session.DocumentStore.Storage.Database.CreateConnection();
        await connection.OpenAsync(ct);
        await using var command = connection.CreateCommand();

        command.CommandText = $"""
            with progress as (select coalesce(max(last_seq_id), 0) as seq from {schema}.mt_event_progression where name = @shard),
                 high as (select coalesce(max(seq_id), 0) as seq from {schema}.mt_events)
            select progress.seq, high.seq,
                   (select e.timestamp from {schema}.mt_events e where e.seq_id > progress.seq order by e.seq_id limit 1)
            from progress, high
            """;
        command.Parameters.Add(new NpgsqlParameter("shard", $"{projection}:All"));
        await using var reader = await command.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        var processed = reader.GetInt64(0);
        var high = reader.GetInt64(1);
        var oldestUnprocessed = reader.IsDBNull(2) ? (DateTimeOffset?)null : reader.GetFieldValue<DateTimeOffset>(2);
        var behind = processed >= high || oldestUnprocessed is null
            ? 0
            : Math.Max(0, (now - Instant.FromDateTimeOffset(oldestUnprocessed.Value)).TotalSeconds);

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
        response.Headers["X-Projection-Last-Sequence"] = LastProcessedSequence.ToString(System.Globalization.CultureInfo.InvariantCulture);
        response.Headers["X-Projection-High-Water-Mark"] = HighWaterMark.ToString(System.Globalization.CultureInfo.InvariantCulture);
        response.Headers["X-Projection-Lag-Seconds"] = SecondsBehind.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The last sequence an async projection has folded (0 before its first batch).</summary>
    public static async Task<long> Processed(IQuerySession session, string projection, CancellationToken ct)
    {
        await using var connection = session.DocumentStore.Storage.Database.CreateConnection();
        await connection.OpenAsync(ct);
        await using var command = connection.CreateCommand();
        command.CommandText = $"select coalesce(max(last_seq_id), 0) from {session.DocumentStore.Options.Events.DatabaseSchemaName}.mt_event_progression where name = @shard";
        command.Parameters.Add(new NpgsqlParameter("shard", $"{projection}:All"));
        return (long)(await command.ExecuteScalarAsync(ct))!;
    }
}
