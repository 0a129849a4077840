using ComputeLedger.Host.Infrastructure;
using ComputeLedger.Ledger.Usage;
using ComputeLedger.Projections.Usage;
using Marten;
using Marten.Events;

namespace ComputeLedger.Host.Usage.Reading;

/// <summary>
/// The usage views on both time axes. "Now" reads the async read models. asOf/knownAt given as dates (whole UTC days)
/// sum the bitemporal buckets before both days and fold only the tail of events the bucket projection has not reached
/// yet, so the cost does not grow with history. An instant inside a day needs finer grain than a bucket: then the usage
/// events recorded before knownAt are replayed through the projections' own fold steps.
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
            return await FromBuckets(session, axes, ct);
        }

        var query = session.Events.QueryAllRawEvents()
            .Where(e => e.EventTypesAre(typeof(ChipHoursConsumed), typeof(UsageVoided), typeof(UsageCorrected)));
        if (axes.KnownBefore is { } known)
        {
            var cutoff = known.ToDateTimeOffset();
            query = query.Where(e => e.Timestamp < cutoff);
        }

        var events = new List<object>();
        await foreach (var e in query.OrderBy(e => e.Sequence).ToAsyncEnumerable(ct))
        {
            events.Add(e.Data);
            if (events.Count % 50_000 == 0)
            {
                progress?.Read(events.Count);
            }
        }

        progress?.Finished(events.Count);
        return UsageReplay.Fold(events, axes.ValidBefore);
    }

    private static bool IsWholeDay(Instant? bound) => bound is not { } b || b.ToUnixTimeTicks() % NodaConstants.TicksPerDay == 0;

    private static async Task<UsageViews> FromBuckets(IQuerySession session, TimeAxes axes, CancellationToken ct)
    {
        var validDay = axes.ValidBefore is { } v ? UsageBucket.DayOf(v) : int.MaxValue;
        var knownDay = axes.KnownBefore is { } k ? UsageBucket.DayOf(k) : int.MaxValue;

        // The buckets and the mark of what they hold must belong together, or an event would be counted twice or
        // not at all: read the mark on both sides of the buckets and retry if the daemon committed in between.
        long processed;
        IReadOnlyList<UsageBucket> buckets;
        var attempts = 0;
        do
        {
            processed = await ProjectionLag.Processed(session, Configuration.UsageProjection, ct);
            buckets = await SumBuckets(session, validDay, knownDay, ct);
        }
        while (await ProjectionLag.Processed(session, Configuration.UsageProjection, ct) != processed && ++attempts < 20);

        var tailQuery = session.Events.QueryAllRawEvents()
            .Where(e => e.Sequence > processed)
            .Where(e => e.EventTypesAre(typeof(ChipHoursConsumed), typeof(UsageVoided), typeof(UsageCorrected)));
        if (axes.KnownBefore is { } known)
        {
            var cutoff = known.ToDateTimeOffset();
            tailQuery = tailQuery.Where(e => e.Timestamp < cutoff);
        }

        var tail = (await tailQuery.OrderBy(e => e.Sequence).ToListAsync(ct))
            .SelectMany(e => UsageBucket.Deltas(e.Data, Instant.FromDateTimeOffset(e.Timestamp)))
            .Where(d => axes.ValidBefore is not { } before || d.ValidAt < before)
            .Select(d => UsageBucket.Add(null, d));
        return UsageBuckets.Sum(buckets.Concat(tail));
    }

    /// <summary>The buckets before both days, summed per (provider, chip, commitment, month) inside PostgreSQL.</summary>
    private static async Task<IReadOnlyList<UsageBucket>> SumBuckets(IQuerySession session, int validDay, int knownDay, CancellationToken ct)
    {
        await using var connection = session.DocumentStore.Storage.Database.CreateConnection();
        await connection.OpenAsync(ct);
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            select provider, chip, commitment_id, month, month_index, currency,
                   sum(chip_hours), sum(amount), sum(tokens), sum(tokenized_amount), sum(records)
            from {session.DocumentStore.Options.DatabaseSchemaName}.mt_doc_usagebucket
            where valid_day < @valid and known_day < @known
            group by provider, chip, commitment_id, month, month_index, currency
            """;
        command.Parameters.Add(new Npgsql.NpgsqlParameter("valid", validDay));
        command.Parameters.Add(new Npgsql.NpgsqlParameter("known", knownDay));
        var sums = new List<UsageBucket>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            sums.Add(new UsageBucket
            {
                Provider = reader.GetString(0),
                Chip = reader.GetString(1),
                CommitmentId = reader.GetString(2),
                Month = reader.GetString(3),
                MonthIndex = reader.GetInt32(4),
                Currency = reader.GetString(5),
                ChipHours = reader.GetDecimal(6),
                Amount = reader.GetDecimal(7),
                Tokens = (long)reader.GetDecimal(8),
                TokenizedAmount = reader.GetDecimal(9),
                Records = (long)reader.GetDecimal(10),
            });
        }

        return sums;
    }
}
