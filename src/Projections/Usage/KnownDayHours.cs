using System.Data;
using JasperFx.Events;
using Marten;
using Npgsql;
using NpgsqlTypes;
using Weasel.Postgresql;
using Weasel.Postgresql.Tables;

namespace ComputeLedger.Projections.Usage;

/// <summary>
/// The usage of each closed known day summed per valid hour: for one known day, one row per (provider, chip,
/// commitment, month, currency, valid day) holding 24 hourly sums of what the day's events added to that valid day, and
/// the latest start within each hour. An instant asOf splits its valid day at an hour; with these rows its earlier known
/// days are summed from a few rows instead of replaying every event that spans the day (in a history that grows by
/// weeks of backfill, most of them).
/// A day is closed once, some minutes after it ends (<see cref="CloseDue"/>, run by the host in the background): its events
/// up to the lineage rows' mark are read once, folded by the same deltas as the buckets (<see cref="Fold"/>), and written
/// with the mark they cover, in one transaction that claims the day, so two hosts never close it twice. Nothing on the
/// ingest path writes here. A read uses a closed day only up to its mark and only where the hour asOf falls in is not
/// split by any of the day's records; every other event of the boundary valid day is replayed as before.
/// The tables' definitions and every statement against them are in this class.
/// </summary>
public static class KnownDayHours
{
    public const string TableName = "usage_day_hours";
    public const string ClosedTableName = "usage_day_hours_closed";
    public const int Hours = 24;
    public const long HourNs = 3_600_000_000_000L;
    public const long DayNs = Hours * HourNs;

    /// <summary>A day is closed this long after it ends: events still being committed then are few, and any are replayed.</summary>
    public static readonly Duration Grace = Duration.FromMinutes(5);

    public static Table Table(string schema)
    {
        var table = new Table(new PostgresqlObjectName(schema, TableName, SchemaUtils.IdentifierUsage.General));
        table.AddColumn<int>("known_day").NotNull();
        table.AddColumn<int>("valid_day").NotNull();
        table.AddColumn<string>("provider").NotNull();
        table.AddColumn<string>("chip").NotNull();
        table.AddColumn<string>("commitment_id").NotNull();
        table.AddColumn<int>("month_index").NotNull();
        table.AddColumn<string>("currency").NotNull();
        // Element h+1 sums the contributions valid in hours 0 to h of the valid day (UTC), so a read up to an hour takes one
        // element of each row (stored so by Close, from the per-hour sums of Fold: Cumulative).
        table.AddColumn("chip_hours", "numeric[]").NotNull();
        table.AddColumn("amount", "numeric[]").NotNull();
        table.AddColumn("tokens", "numeric[]").NotNull();
        table.AddColumn("tokenized_amount", "numeric[]").NotNull();
        table.AddColumn("records", "bigint[]").NotNull();
        // The latest valid time within each hour, in nanoseconds after the hour (0 for an hour of whole-hour starts or none).
        table.AddColumn("max_offset_ns", "bigint[]").NotNull();
        table.Indexes.Add(new IndexDefinition("ix_usage_day_hours_days") { Columns = ["valid_day", "known_day"] });
        return table;
    }

    public static Table ClosedTable(string schema)
    {
        var table = new Table(new PostgresqlObjectName(schema, ClosedTableName, SchemaUtils.IdentifierUsage.General));
        table.AddColumn<int>("known_day").AsPrimaryKey();
        // The lineage rows' mark when the day was closed: the rows hold the day's events up to it, no later one.
        table.AddColumn<long>("up_to_seq").NotNull();
        table.AddColumn<int>("events").NotNull();
        table.AddColumn<DateTimeOffset>("closed_at").NotNull();
        return table;
    }

    /// <summary>One valid day's hourly sums of one known day's contributions to one key.</summary>
    public sealed class Row
    {
        public required string Provider { get; init; }
        public required string Chip { get; init; }
        public required string CommitmentId { get; init; }
        public required int MonthIndex { get; init; }
        public required string Currency { get; init; }
        public required int ValidDay { get; init; }
        public decimal[] ChipHours { get; } = new decimal[Hours];
        public decimal[] Amount { get; } = new decimal[Hours];
        public decimal[] Tokens { get; } = new decimal[Hours];
        public decimal[] TokenizedAmount { get; } = new decimal[Hours];
        public long[] Records { get; } = new long[Hours];
        public long[] MaxOffsetNs { get; } = new long[Hours];
    }

    /// <summary>
    /// Pure: the hourly rows of some events, added into <paramref name="rows"/>: every delta the buckets would count
    /// (<see cref="UsageBucket.Deltas"/>), in the hour of its valid time.
    /// </summary>
    public static void Fold(IEnumerable<(object Data, Instant KnownAt)> events,
        Dictionary<(string Provider, string Chip, string CommitmentId, int Month, string Currency, int ValidDay), Row> rows)
    {
        foreach (var (data, knownAt) in events)
        {
            foreach (var d in UsageBucket.Deltas(data, knownAt))
            {
                var validDay = UsageBucket.DayOf(d.ValidAt);
                var key = (d.Provider, d.Chip, d.CommitmentId, Months.IndexOf(d.CountedAt), d.Amount.Currency, validDay);
                if (!rows.TryGetValue(key, out var row))
                {
                    rows[key] = row = new Row
                    {
                        Provider = key.Provider, Chip = key.Chip, CommitmentId = key.CommitmentId, MonthIndex = key.Item4, Currency = key.Currency,
                        ValidDay = validDay,
                    };
                }

                var intoDay = UsageLineage.Nanos(d.ValidAt) - (validDay * DayNs);
                var (hour, offset) = ((int)(intoDay / HourNs), intoDay % HourNs);
                row.ChipHours[hour] += d.ChipHours;
                row.Amount[hour] += d.Amount.Amount;
                row.Records[hour] += d.Records;
                row.MaxOffsetNs[hour] = Math.Max(row.MaxOffsetNs[hour], offset);
                if (d.Tokens is { } tokens)
                {
                    row.Tokens[hour] += tokens;
                    row.TokenizedAmount[hour] += d.Amount.Amount;
                }
            }
        }
    }

    /// <summary>Running sums of per-hour sums: element h is the sum of hours 0 to h, as the table stores them.</summary>
    public static decimal[] Cumulative(decimal[] hourly)
    {
        var sums = new decimal[hourly.Length];
        for (var (h, sum) = (0, 0m); h < hourly.Length; h++)
        {
            sums[h] = sum += hourly[h];
        }

        return sums;
    }

    /// <inheritdoc cref="Cumulative(decimal[])"/>
    public static long[] Cumulative(long[] hourly)
    {
        var sums = new long[hourly.Length];
        for (var (h, sum) = (0, 0L); h < hourly.Length; h++)
        {
            sums[h] = sum += hourly[h];
        }

        return sums;
    }

    /// <summary>
    /// Closes every known day that is due at <paramref name="now"/>, earliest first, and returns how many it closed. A day
    /// is due when it ended at least <see cref="Grace"/> ago and the lineage rows have reached past it (they hold a later
    /// event, or every event appended). Finding the next one is one indexed lookup, however long the history.
    /// </summary>
    public static async Task<int> CloseDue(IDocumentStore store, Instant now, CancellationToken ct)
    {
        var closed = 0;
        while (await NextDue(store, now, ct) is { } day && await Close(store, day, now, ct) is { } byUs)
        {
            closed += byUs ? 1 : 0;
        }

        return closed;
    }

    private static async Task<int?> NextDue(IDocumentStore store, Instant now, CancellationToken ct)
    {
        var schema = store.Options.DatabaseSchemaName;
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand($"""
            with mark as ({LineageReader.MarkSql(store)}),
            next as (
                select min(known_ns) as known_ns from {schema}.{UsageLineageSlices.TableName}
                where known_ns >= coalesce((select (max(known_day) + 1)::bigint * {DayNs} from {schema}.{ClosedTableName}), '-9223372036854775808'::bigint)
                  and seq <= (select seq from mark))
            select floor(next.known_ns / {DayNs}.0)::int,
                   exists (select 1 from {schema}.{UsageLineageSlices.TableName}
                           where known_ns >= (floor(next.known_ns / {DayNs}.0)::bigint + 1) * {DayNs} and seq <= (select seq from mark))
                   or (select seq from mark) >= (select coalesce(max(last_seq_id), 0) from {store.Options.Events.DatabaseSchemaName}.mt_event_progression where name = 'HighWaterMark')
            from next where next.known_ns is not null
            """, connection);
        await using var reader = await command.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct))
        {
            return null;
        }

        var day = reader.GetInt32(0);
        var reached = reader.GetBoolean(1);
        return reached && UsageLineage.DayStart(day + 1) + Grace <= now ? day : null;
    }

    /// <summary>
    /// Closes one known day: its events up to the lineage rows' mark (named by those rows, read once in chunks) folded
    /// into hourly rows, written with that mark in one transaction that first claims the day. True when this call closed
    /// it, false when it was closed already (by another host), null when the rows hold none of its events now.
    /// </summary>
    public static async Task<bool?> Close(IDocumentStore store, int day, Instant now, CancellationToken ct)
    {
        var schema = store.Options.DatabaseSchemaName;
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(ct);
        long mark;
        var sequences = new List<long>();
        await using (var snapshot = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, ct))
        {
            await using (var command = new NpgsqlCommand(LineageReader.MarkSql(store), connection, snapshot))
            {
                mark = (long)(await command.ExecuteScalarAsync(ct))!;
            }

            await using (var command = new NpgsqlCommand($"""
                select distinct seq from {schema}.{UsageLineageSlices.TableName}
                where known_ns >= @from and known_ns < @before and seq <= @mark order by seq
                """, connection, snapshot))
            {
                command.Parameters.Add(new NpgsqlParameter("from", day * DayNs));
                command.Parameters.Add(new NpgsqlParameter("before", (day + 1) * DayNs));
                command.Parameters.Add(new NpgsqlParameter("mark", mark));
                await using var reader = await command.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    sequences.Add(reader.GetInt64(0));
                }
            }

            await snapshot.CommitAsync(ct);
        }

        // The day was found among the rows; none of it now means they were emptied meanwhile (a rebuild's teardown before
        // its mark was reset). Closing on that would claim the day with nothing; it is tried again later.
        if (sequences.Count == 0)
        {
            return null;
        }

        // Chunks of events, so a day of backfill is never in memory at once: the rows are per key and valid day.
        var rows = new Dictionary<(string, string, string, int, string, int), Row>();
        await using (var session = store.QuerySession())
        {
            foreach (var chunk in sequences.Chunk(200))
            {
                var events = await session.Events.QueryAllRawEvents().Where(e => chunk.Contains(e.Sequence)).ToListAsync(ct);
                Fold(events.Select(e => (e.Data, Instant.FromDateTimeOffset(e.Timestamp))), rows);
            }
        }

        await using var write = await connection.BeginTransactionAsync(ct);
        await using (var claim = new NpgsqlCommand($"""
            insert into {schema}.{ClosedTableName} (known_day, up_to_seq, events, closed_at) values (@day, @mark, @events, @at)
            on conflict (known_day) do nothing
            """, connection, write))
        {
            claim.Parameters.Add(new NpgsqlParameter("day", day));
            claim.Parameters.Add(new NpgsqlParameter("mark", mark));
            claim.Parameters.Add(new NpgsqlParameter("events", sequences.Count));
            claim.Parameters.Add(new NpgsqlParameter("at", now.ToDateTimeOffset()));
            if (await claim.ExecuteNonQueryAsync(ct) == 0)
            {
                return false;
            }
        }

        await using (var copy = await connection.BeginBinaryImportAsync($"""
            copy {schema}.{TableName} (known_day, valid_day, provider, chip, commitment_id, month_index, currency,
                chip_hours, amount, tokens, tokenized_amount, records, max_offset_ns) from stdin (format binary)
            """, ct))
        {
            foreach (var row in rows.Values)
            {
                await copy.StartRowAsync(ct);
                await copy.WriteAsync(day, NpgsqlDbType.Integer, ct);
                await copy.WriteAsync(row.ValidDay, NpgsqlDbType.Integer, ct);
                await copy.WriteAsync(row.Provider, NpgsqlDbType.Text, ct);
                await copy.WriteAsync(row.Chip, NpgsqlDbType.Text, ct);
                await copy.WriteAsync(row.CommitmentId, NpgsqlDbType.Text, ct);
                await copy.WriteAsync(row.MonthIndex, NpgsqlDbType.Integer, ct);
                await copy.WriteAsync(row.Currency, NpgsqlDbType.Text, ct);
                await copy.WriteAsync(Cumulative(row.ChipHours), NpgsqlDbType.Array | NpgsqlDbType.Numeric, ct);
                await copy.WriteAsync(Cumulative(row.Amount), NpgsqlDbType.Array | NpgsqlDbType.Numeric, ct);
                await copy.WriteAsync(Cumulative(row.Tokens), NpgsqlDbType.Array | NpgsqlDbType.Numeric, ct);
                await copy.WriteAsync(Cumulative(row.TokenizedAmount), NpgsqlDbType.Array | NpgsqlDbType.Numeric, ct);
                await copy.WriteAsync(Cumulative(row.Records), NpgsqlDbType.Array | NpgsqlDbType.Bigint, ct);
                await copy.WriteAsync(row.MaxOffsetNs, NpgsqlDbType.Array | NpgsqlDbType.Bigint, ct);
            }

            await copy.CompleteAsync(ct);
        }

        await write.CommitAsync(ct);
        return true;
    }

    /// <summary>
    /// For an instant's read (<see cref="LineageReader"/>), as common table expressions: <c>valid_slices</c>, the slices
    /// of the boundary valid day known before knownAt up to the reader's mark, and <c>closed_days</c>, the known days
    /// before the boundary known day whose hourly rows stand in for their events up to <c>up_to_seq</c>: closed at or
    /// below the reader's mark, and no record of theirs in the hour asOf falls in starts at or after asOf. Parameters:
    /// the boundary ones, @rows (off: no closed day is used), @known_day_number, @slot (1-based hour of asOf) and @offset
    /// (asOf's exclusive bound in nanoseconds after that hour).
    /// </summary>
    public static string BoundaryCtes(string schema, string slices) => $"""
        valid_slices as (
            select seq, known_ns from {slices}
            where @valid_open and valid_from_day <= @valid_day and valid_from_day >= @valid_day - 31 and valid_to_day >= @valid_day
              and known_ns < @known_before and seq <= @mark),
        closed_days as (
            select c.known_day, c.up_to_seq from {schema}.{ClosedTableName} c
            where @rows and @valid_open and c.known_day < @known_day_number and c.up_to_seq <= @mark
              and c.known_day in (select known_day from {schema}.{TableName} where valid_day = @valid_day)
              and not exists (select 1 from {schema}.{TableName} h
                              where h.valid_day = @valid_day and h.known_day = c.known_day and h.max_offset_ns[@slot] >= @offset))
        """;

    /// <summary>The closed days' hourly sums of the boundary valid day up to asOf, as the columns of <see cref="UsageBucket.FromSumRow"/>.</summary>
    public static string BoundarySumsSql(string schema) => $"""
        select {UsageBucket.SumColumns},
            sum(h.chip_hours[@slot]), sum(h.amount[@slot]), sum(h.tokens[@slot]), sum(h.tokenized_amount[@slot]), sum(h.records[@slot])
        from {schema}.{TableName} h join closed_days c on c.known_day = h.known_day
        where h.valid_day = @valid_day
        group by {UsageBucket.SumColumns}
        """;

    /// <summary>Whether a valid slice's event is held by a closed day's rows (<see cref="BoundaryCtes"/>), as SQL over alias v.</summary>
    public static readonly string HeldByClosedDay = $"""
        exists (select 1 from closed_days c
                where v.known_ns >= c.known_day::bigint * {DayNs} and v.known_ns < (c.known_day + 1)::bigint * {DayNs} and v.seq <= c.up_to_seq)
        """;

    /// <summary>The hour of the boundary valid day asOf falls in (1-based, as the arrays count) and asOf's exclusive bound after it, in nanoseconds.</summary>
    public static (int Slot, long Offset) SlotOf(BoundaryDays days)
    {
        if (days.ValidDay >= days.ValidBefore || days.ValidDay == long.MaxValue)
        {
            return (1, 0);
        }

        var span = days.ValidBefore - days.ValidDay;
        var hour = (span - 1) / HourNs;
        return ((int)hour + 1, span - (hour * HourNs));
    }
}
