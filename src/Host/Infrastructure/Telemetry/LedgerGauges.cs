using JasperFx.Events.Daemon;
using Marten;
using Npgsql;

namespace ComputeLedger.Host.Infrastructure.Telemetry;

/// <summary>
/// The figures behind the ledger's gauges (projection lag, dead letters, outbox and queue depth), read from PostgreSQL
/// every Ledger:Telemetry:SampleSeconds (default 10) by a few small queries. A scrape reads the last sample and never
/// touches the database, so scraping often costs nothing and a slow database never stalls a scrape.
/// </summary>
public sealed class LedgerGauges(IDocumentStore store, IConfiguration configuration, TimeProvider time, ILogger<LedgerGauges> logger) : BackgroundService
{
    public sealed record ProjectionFigures(string Name, long LastSequence, long EventsBehind, double SecondsBehind);

    public sealed record QueueFigures(string Name, long Depth);

    public sealed record Sample(IReadOnlyList<ProjectionFigures> Projections, long DeadLetters, long Outbox, IReadOnlyList<QueueFigures> Queues)
    {
        public static readonly Sample Empty = new([], 0, 0, []);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var seconds = configuration.GetValue("Ledger:Telemetry:SampleSeconds", 10.0);
        if (seconds <= 0)
        {
            return;
        }

        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(seconds), time);
        do
        {
            try
            {
                LedgerMetrics.Sampled = await Read(stoppingToken);
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException or TimeoutException)
            {
                logger.LogDebug(e, "Sampling the ledger's gauges failed; the last sample stands until the next tick");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    public async Task<Sample> Read(CancellationToken ct)
    {
        var events = store.Options.Events.DatabaseSchemaName;
        var documents = store.Options.DatabaseSchemaName;
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(ct);

        var projections = new List<ProjectionFigures>();
        await using (var command = connection.CreateCommand())
        {
            // One row per projection shard; the oldest unfolded event is found through the sequence index, once per shard.
            command.CommandText = $"""
                with high as (select coalesce(max(seq_id), 0) as seq from {events}.mt_events)
                select p.name, p.last_seq_id, high.seq,
                       (select e.timestamp from {events}.mt_events e where e.seq_id > p.last_seq_id order by e.seq_id limit 1)
                from {events}.mt_event_progression p, high
                where p.name <> 'HighWaterMark'
                """;
            await using var reader = await command.ExecuteReaderAsync(ct);
            var now = time.GetUtcNow();
            while (await reader.ReadAsync(ct))
            {
                var last = reader.GetInt64(1);
                var high = reader.GetInt64(2);
                var oldest = reader.IsDBNull(3) ? (DateTimeOffset?)null : reader.GetFieldValue<DateTimeOffset>(3);
                var behind = last >= high || oldest is null ? 0 : Math.Max(0, (now - oldest.Value).TotalSeconds);
                projections.Add(new ProjectionFigures(reader.GetString(0).Replace(":All", "", StringComparison.Ordinal), last, Math.Max(0, high - last), behind));
            }
        }

        await using var session = store.QuerySession();
        var deadLetters = await session.Query<DeadLetterEvent>().CountAsync(ct);

        long outbox;
        var queues = new List<QueueFigures>();
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = $"""
                select (select count(*) from {documents}.wolverine_outgoing_envelopes),
                       coalesce((select json_agg(json_build_array(q.name, q.depth)) from (
                           select coalesce(received_at, 'unknown') as name, count(*) as depth
                           from {documents}.wolverine_incoming_envelopes where status in ('Incoming', 'Scheduled')
                           group by 1) q), '[]')
                """;
            await using var reader = await command.ExecuteReaderAsync(ct);
            await reader.ReadAsync(ct);
            outbox = reader.GetInt64(0);
            foreach (var row in System.Text.Json.JsonDocument.Parse(reader.GetString(1)).RootElement.EnumerateArray())
            {
                queues.Add(new QueueFigures(row[0].GetString()!, row[1].GetInt64()));
            }
        }

        queues.AddRange(await PostgresqlQueues(connection, ct));
        return new Sample(projections, deadLetters, outbox, queues);
    }

    /// <summary>The integration queues Wolverine keeps as tables in the wolverine_queues schema, one count each.</summary>
    private static async Task<List<QueueFigures>> PostgresqlQueues(NpgsqlConnection connection, CancellationToken ct)
    {
        var tables = new List<string>();
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = "select table_name from information_schema.tables where table_schema = 'wolverine_queues' and table_name like 'wolverine\\_queue\\_%' and table_name not like '%\\_scheduled' order by 1 limit 50";
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                tables.Add(reader.GetString(0));
            }
        }

        var figures = new List<QueueFigures>();
        foreach (var table in tables)
        {
            await using var command = connection.CreateCommand();
            command.CommandText = $"select count(*) from wolverine_queues.\"{table.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";
            figures.Add(new QueueFigures($"postgresql://{table["wolverine_queue_".Length..]}", (long)(await command.ExecuteScalarAsync(ct))!));
        }

        return figures;
    }
}
