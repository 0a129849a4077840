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

        var query = session.RecordedBefore(axes.KnownBefore, RecordedEvents.Usage);
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

    public static bool IsWholeDay(Instant? bound) => bound is not { } b || b.ToUnixTimeTicks() % NodaConstants.TicksPerDay == 0;

    /// <summary>The views summed from the buckets (and the tail the bucket projection has not reached), on whole-day axes.</summary>
    public static async Task<UsageViews> FromBuckets(IQuerySession session, TimeAxes axes, CancellationToken ct)
    {
        var validBound = Bound.Of(axes.ValidBefore);
        var knownBound = Bound.Of(axes.KnownBefore);

        // The buckets and the mark of what they hold must belong together, or an event would be counted twice or
        // not at all: read the mark on both sides of the buckets and retry if the daemon committed in between.
        long processed;
        IReadOnlyList<UsageBucket> buckets;
        var attempts = 0;
        do
        {
            processed = await ProjectionLag.Processed(session, Configuration.BucketProjection, ct);
            buckets = await SumBuckets(session, validBound, knownBound, ct);
        }
        while (await ProjectionLag.Processed(session, Configuration.BucketProjection, ct) != processed && ++attempts < 20);

        var tailQuery = session.RecordedBefore(axes.KnownBefore, RecordedEvents.Usage).Where(e => e.Sequence > processed);
        var tail = (await tailQuery.OrderBy(e => e.Sequence).ToListAsync(ct))
            .SelectMany(e => UsageBucket.Deltas(e.Data, Instant.FromDateTimeOffset(e.Timestamp)))
            .Where(d => axes.ValidBefore is not { } before || d.ValidAt < before)
            .Select(d => UsageBucket.Add(null, d, "dd"));
        return UsageBuckets.Sum(buckets.Concat(tail));
    }

    /// <summary>
    /// An exclusive whole-day bound on one axis: the first excluded day, its month, and the first day of that month.
    /// Units before the month are summed at month grain, the days of the month before the bound at day grain.
    /// </summary>
    private sealed record Bound(int Day, int Month, int MonthStartDay)
    {
        public static Bound Of(Instant? before) => before is { } b
            ? new Bound(UsageBucket.DayOf(b), Months.IndexOf(b),
                UsageBucket.DayOf(b.InUtc().Date.With(DateAdjusters.StartOfMonth).AtStartOfDayInZone(DateTimeZone.Utc).ToInstant()))
            : new Bound(int.MaxValue, int.MaxValue, int.MaxValue);
    }

    /// <summary>The buckets before both bounds, summed per (provider, chip, commitment, month) inside PostgreSQL.</summary>
    private static async Task<IReadOnlyList<UsageBucket>> SumBuckets(IQuerySession session, Bound valid, Bound known, CancellationToken ct)
    {
        await using var connection = session.DocumentStore.Storage.Database.CreateConnection();
        await connection.OpenAsync(ct);
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            select provider, chip, commitment_id, month, month_index, currency,
                   sum(chip_hours), sum(amount), sum(tokens), sum(tokenized_amount), sum(records)
            from {session.DocumentStore.Options.DatabaseSchemaName}.{UsageBucketRows.TableName}
            where (grain = 'mm' and valid_unit < @vm and known_unit < @km)
               or (grain = 'md' and valid_unit < @vm and known_unit >= @kms and known_unit < @kd)
               or (grain = 'dm' and valid_unit >= @vms and valid_unit < @vd and known_unit < @km)
               or (grain = 'dd' and valid_unit >= @vms and valid_unit < @vd and known_unit >= @kms and known_unit < @kd)
            group by provider, chip, commitment_id, month, month_index, currency
            """;
        command.Parameters.Add(new Npgsql.NpgsqlParameter("vm", valid.Month));
        command.Parameters.Add(new Npgsql.NpgsqlParameter("vms", valid.MonthStartDay));
        command.Parameters.Add(new Npgsql.NpgsqlParameter("vd", valid.Day));
        command.Parameters.Add(new Npgsql.NpgsqlParameter("km", known.Month));
        command.Parameters.Add(new Npgsql.NpgsqlParameter("kms", known.MonthStartDay));
        command.Parameters.Add(new Npgsql.NpgsqlParameter("kd", known.Day));
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
                Tokens = reader.GetDecimal(8),
                TokenizedAmount = reader.GetDecimal(9),
                Records = (long)reader.GetDecimal(10),
            });
        }

        return sums;
    }
}
