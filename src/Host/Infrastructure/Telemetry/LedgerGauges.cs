using JasperFx.Events.Daemon;
using JasperFx.Events.Projections;
using Wolverine.Runtime;
using Marten;
using Npgsql;

namespace ComputeLedger.Host.Infrastructure.Telemetry;

/// <summary>
/// The figures behind the ledger's gauges (projection lag, dead letters, outbox and queue depth), read from PostgreSQL
/// every Ledger:Telemetry:SampleSeconds (default 10) by a few small queries. A scrape reads the last sample and never
/// touches the database, so scraping often costs nothing and a slow database never stalls a scrape.
/// </summary>
public sealed class LedgerGauges(IDocumentStore store, IWolverineRuntime runtime, IConfiguration configuration, TimeProvider time, ILogger<LedgerGauges> logger)
    : PeriodicWork(configuration, "Ledger:Telemetry:SampleSeconds", 10, time)
{
    public sealed record ProjectionFigures(string Name, long LastSequence, long EventsBehind, double SecondsBehind);

    public sealed record QueueFigures(string Name, long Depth);

    public sealed record Sample(IReadOnlyList<ProjectionFigures> Projections, long DeadLetters, long Outbox, IReadOnlyList<QueueFigures> Queues)
    {
        public static readonly Sample Empty = new([], 0, 0, []);
    }

    protected override async Task Tick(CancellationToken ct) => LedgerMetrics.Sampled = await Read(ct);

    // Marten wraps a lost connection in its own exceptions; the gauges keep their last figures until a sample succeeds.
    protected override void Failed(Exception fault) => logger.LogDebug(fault, "Sampling the ledger's gauges failed; the last sample stands until the next tick");

    /// <summary>
    /// Projection progress and the event log through Marten's API, dead letters as Marten documents, the outbox and inbox
    /// through Wolverine's message store; only the PostgreSQL transport's queue tables are counted with SQL.
    /// </summary>
    public async Task<Sample> Read(CancellationToken ct)
    {
        await using var session = store.QuerySession();
        var newest = await session.Events.QueryAllRawEvents().OrderByDescending(e => e.Sequence).FirstOrDefaultAsync(ct);
        var high = newest?.Sequence ?? 0;
        var now = Time.GetUtcNow();
        var projections = new List<ProjectionFigures>();
        foreach (var shard in await store.Advanced.AllProjectionProgress(token: ct))
        {
            if (shard.ShardName == ShardState.HighWaterMark)
            {
                continue;
            }

            var oldest = shard.Sequence >= high
                ? null
                : await session.Events.QueryAllRawEvents().Where(e => e.Sequence > shard.Sequence).OrderBy(e => e.Sequence).FirstOrDefaultAsync(ct);
            var behind = oldest is null ? 0 : Math.Max(0, (now - oldest.Timestamp).TotalSeconds);
            projections.Add(new ProjectionFigures(shard.ShardName.Replace(":All", "", StringComparison.Ordinal), shard.Sequence,
                Math.Max(0, high - shard.Sequence), behind));
        }

        var deadLetters = await session.Query<DeadLetterEvent>().CountAsync(ct);
        var counts = await runtime.Storage.Admin.FetchCountsAsync();
        List<QueueFigures> queues = [new("inbox", counts.Incoming), new("scheduled", counts.Scheduled)];
        await using (var connection = store.Storage.Database.CreateConnection())
        {
            await connection.OpenAsync(ct);
            queues.AddRange(await PostgresqlQueues(connection, ct));
        }

        return new Sample(projections, deadLetters, counts.Outgoing, queues);
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
