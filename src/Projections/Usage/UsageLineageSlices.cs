using System.Data;
using ComputeLedger.Ledger.Usage;
using JasperFx.Events;
using JasperFx.Events.Projections;
using Marten.Events.Projections;
using Marten;
using Npgsql;
using Weasel.Postgresql;
using Weasel.Postgresql.Tables;

namespace ComputeLedger.Projections.Usage;

/// <summary>
/// An exclusive bound on one axis in the units the buckets use: the first excluded day, its month, and the first day of
/// that month. Units before the month are summed at month grain, the days of the month before the bound at day grain.
/// </summary>
public sealed record UnitBound(int Day, int Month, int MonthStartDay)
{
    public static UnitBound Of(Instant? before) => before is { } b
        ? new UnitBound(UsageBucket.DayOf(b), Months.IndexOf(b),
            UsageBucket.DayOf(b.InUtc().Date.With(DateAdjusters.StartOfMonth).AtStartOfDayInZone(DateTimeZone.Utc).ToInstant()))
        : new UnitBound(int.MaxValue, int.MaxValue, int.MaxValue);

    /// <summary>The buckets of a grain below both bounds (valid, known), as SQL over valid_unit/known_unit and the @v*/@k* parameters.</summary>
    public const string Sql = """
        ((grain = 'mm' and valid_unit < @vm and known_unit < @km)
          or (grain = 'md' and valid_unit < @vm and known_unit >= @kms and known_unit < @kd)
          or (grain = 'dm' and valid_unit >= @vms and valid_unit < @vd and known_unit < @km)
          or (grain = 'dd' and valid_unit >= @vms and valid_unit < @vd and known_unit >= @kms and known_unit < @kd))
        """;

    public static void AddParameters(NpgsqlCommand command, UnitBound valid, UnitBound known)
    {
        command.Parameters.Add(new NpgsqlParameter("vm", valid.Month));
        command.Parameters.Add(new NpgsqlParameter("vms", valid.MonthStartDay));
        command.Parameters.Add(new NpgsqlParameter("vd", valid.Day));
        command.Parameters.Add(new NpgsqlParameter("km", known.Month));
        command.Parameters.Add(new NpgsqlParameter("kms", known.MonthStartDay));
        command.Parameters.Add(new NpgsqlParameter("kd", known.Day));
    }
}

/// <summary>What changed one figure's month between two known times: its net amount, and the events that moved it.</summary>
public sealed record LineageChange(string Figure, string Provider, string? Chip, string? CommitmentId, int MonthIndex, string Currency,
    decimal Amount, long EventCount, IReadOnlyList<Guid> EventIds)
{
    public const int MaxEventIds = 100;

    /// <summary>The same grouping as the SQL of <see cref="LineageReader.Changes"/>, over entries in memory (the tail).</summary>
    public static IEnumerable<LineageChange> Of(IEnumerable<LineageEntry> entries, int pastMonth)
    {
        var kept = entries.Where(e => Months.IndexOf(e.Delta.CountedAt) <= pastMonth).ToList();
        return kept.GroupBy(e => ("chipSpend", e.Delta.Provider, (string?)e.Delta.Chip, (string?)null, Months.IndexOf(e.Delta.CountedAt), e.Delta.Amount.Currency))
            .Concat(kept.GroupBy(e => ("providerRevenue", e.Delta.Provider, (string?)null, (string?)null, Months.IndexOf(e.Delta.CountedAt), e.Delta.Amount.Currency)))
            .Concat(kept.GroupBy(e => ("commitmentDrawdown", e.Delta.Provider, (string?)null, (string?)e.Delta.CommitmentId, Months.IndexOf(e.Delta.CountedAt), e.Delta.Amount.Currency)))
            .Select(g =>
            {
                var events = g.OrderBy(e => e.Sequence).Select(e => e.EventId).Distinct().ToList();
                return new LineageChange(g.Key.Item1, g.Key.Provider, g.Key.Item3, g.Key.Item4, g.Key.Item5, g.Key.Currency,
                    g.Sum(e => e.Delta.Amount.Amount), events.Count, events.Take(MaxEventIds).ToList());
            });
    }

    /// <summary>A change read from the table followed by the same key's change in the tail (later events).</summary>
    public LineageChange Then(LineageChange later) => this with
    {
        Amount = Amount + later.Amount,
        EventCount = EventCount + later.EventCount,
        EventIds = EventIds.Concat(later.EventIds).Take(MaxEventIds).ToList(),
    };
}

/// <summary>Entries, records and events of one figure on some axes, and their sum.</summary>
public sealed record LineageCounts(long Entries, long Events, decimal Amount, string? Currency)
{
    public static readonly LineageCounts None = new(0, 0, 0m, null);

    public LineageCounts Plus(LineageCounts other) =>
        new(Entries + other.Entries, Events + other.Events, Amount + other.Amount, Currency ?? other.Currency);

    /// <summary>The counts of entries of one figure (<paramref name="eventMark"/>: which <see cref="LineageEntry.Firsts"/> bit counts an event).</summary>
    public static LineageCounts Of(IEnumerable<LineageEntry> entries, int eventMark) => entries.Aggregate(None, (c, e) =>
        new LineageCounts(c.Entries + 1, c.Events + ((e.Firsts & eventMark) != 0 ? 1 : 0), c.Amount + e.Delta.Amount.Amount, c.Currency ?? e.Delta.Amount.Currency));
}

/// <summary>
/// Lineage as rows of plain tables, kept by the async daemon as a member of the Usage composite, in the style of
/// <see cref="UsageBucketRows"/>: each page of events becomes one multi-row insert of entries into
/// <c>usage_lineage_slices</c> (one row per event slice: the signed contributions of one event that share a chip-month,
/// a commitment, a valid month and a known time, with their count, sum, valid-day range and record-index range) and one
/// set-based upsert into <c>usage_lineage_slice_counts</c>, the entries, events and amount of each figure (chip-month 's',
/// provider-month 'r') per bitemporal bucket, so a figure's counts and sum read a calendar-bounded number of rows.
/// Refused events (figures beyond the limits) have no entries; the bucket member dead-letters them.
/// Both tables, and every statement against them, are in this file: that is why it is longer than 200 lines (one home
/// per table). The names differ from the first design's <c>usage_lineage</c>/<c>UsageLineageRows</c> (one row per
/// record) on purpose: a database that holds those keeps them untouched, and this member, under a new progress name,
/// fills its own tables from the start of the log instead of writing slices into a table of another shape.
/// </summary>
public sealed class UsageLineageSlices(string schema) : IProjection
{
    /// <summary>The daemon's name for it and its progress row (<c>UsageLineageSlices:All</c>); Marten names composite members after the class.</summary>
    public const string ProjectionName = nameof(UsageLineageSlices);

    public const string TableName = "usage_lineage_slices";
    public const string CountsTableName = "usage_lineage_slice_counts";

    public const string ChipMonth = "s";
    public const string ProviderMonth = "r";

    public static Table Table(string schema)
    {
        // One row per slice of an event, not per record: the entries of one event that share a chip-month figure, a
        // commitment, a valid month and a known time (a batch's records share their known time and mostly their chip and
        // month), with their count, sum, first and last valid day, and first/last index in the event. A page of entries
        // reads the slices by keyset and expands the records from the events themselves. Valid days are day numbers
        // (a slice spans at most one month of them), known time nanoseconds since 1970.
        // No primary key: (seq, first_idx) is unique by construction, and every index is a cost on the ingest path.
        var table = new Table(new PostgresqlObjectName(schema, TableName, Weasel.Postgresql.SchemaUtils.IdentifierUsage.General));
        table.AddColumn<long>("seq").NotNull();
        table.AddColumn<Guid>("event_id").NotNull();
        table.AddColumn<string>("provider").NotNull();
        table.AddColumn<string>("chip").NotNull();
        table.AddColumn<string>("commitment_id").NotNull();
        table.AddColumn<int>("month_index").NotNull();
        table.AddColumn<int>("valid_from_day").NotNull();
        table.AddColumn<int>("valid_to_day").NotNull();
        table.AddColumn<long>("known_ns").NotNull();
        table.AddColumn<string>("currency").NotNull();
        table.AddColumn<int>("entries").NotNull();
        table.AddColumn("amount", "numeric").NotNull();
        table.AddColumn<int>("first_idx").NotNull();
        table.AddColumn<int>("last_idx").NotNull();
        // The slice's other sums, as a day bucket has them, so an instant's boundary known day can sum an event's slices
        // instead of replaying it. Null in rows written before they were added: such an event is replayed.
        table.AddColumn("chip_hours", "numeric").AllowNulls();
        table.AddColumn("tokens", "numeric").AllowNulls();
        table.AddColumn("tokenized_amount", "numeric").AllowNulls();
        table.AddColumn("records", "integer").AllowNulls();
        // Keyset walks of a chip-month (and, by its prefix, nothing else: a provider-month has its own).
        table.Indexes.Add(new IndexDefinition("ix_usage_lineage_slices_chip_month") { Columns = ["provider", "chip", "month_index", "seq"] });
        table.Indexes.Add(new IndexDefinition("ix_usage_lineage_slices_provider_month") { Columns = ["provider", "month_index", "seq"] });
        // The boundary day of an instant asOf (slices whose valid days span it: their first day is at most a month before).
        table.Indexes.Add(new IndexDefinition("ix_usage_lineage_slices_valid") { Columns = ["valid_from_day"] });
        // Known-time ranges: the boundary day of an instant knownAt, restatements' window.
        table.Indexes.Add(new IndexDefinition("ix_usage_lineage_slices_known") { Columns = ["known_ns"] });
        return table;
    }

    public static Table CountsTable(string schema)
    {
        var table = new Table(new PostgresqlObjectName(schema, CountsTableName, Weasel.Postgresql.SchemaUtils.IdentifierUsage.General));
        table.AddColumn<string>("figure").AsPrimaryKey();
        table.AddColumn<string>("provider").AsPrimaryKey();
        table.AddColumn<string>("chip").AsPrimaryKey();
        table.AddColumn<int>("month_index").AsPrimaryKey();
        table.AddColumn<string>("grain").AsPrimaryKey();
        table.AddColumn<int>("valid_unit").AsPrimaryKey();
        table.AddColumn<int>("known_unit").AsPrimaryKey();
        table.AddColumn<string>("currency").AsPrimaryKey();
        table.AddColumn<long>("entries").NotNull();
        table.AddColumn<long>("events").NotNull();
        table.AddColumn("amount", "numeric").NotNull();
        return table;
    }

    /// <summary>One bucket's increments of the counts of a figure.</summary>
    public sealed class CountRow
    {
        public required string Figure { get; init; }
        public required string Provider { get; init; }
        public required string Chip { get; init; }
        public required int MonthIndex { get; init; }
        public required string Grain { get; init; }
        public required int ValidUnit { get; init; }
        public required int KnownUnit { get; init; }
        public required string Currency { get; init; }
        public long Entries { get; set; }
        public long Events { get; set; }
        public decimal Amount { get; set; }
    }

    /// <summary>One slice of an event: its entries of one chip-month, commitment, valid month and known time.</summary>
    public sealed class Slice
    {
        public required long Sequence { get; init; }
        public required Guid EventId { get; init; }
        public required string Provider { get; init; }
        public required string Chip { get; init; }
        public required string CommitmentId { get; init; }
        public required int MonthIndex { get; init; }
        public required int ValidFromDay { get; set; }
        public required int ValidToDay { get; set; }
        public required long KnownNs { get; init; }
        public required string Currency { get; init; }
        public required int FirstIndex { get; init; }
        public int LastIndex { get; set; }
        public int Entries { get; set; }
        public decimal Amount { get; set; }
        public decimal ChipHours { get; set; }
        public decimal Tokens { get; set; }
        public decimal TokenizedAmount { get; set; }

        /// <summary>Records counted (+1) and taken back (-1), as a bucket counts them.</summary>
        public int Records { get; set; }

        /// <summary>Counts the entry at <paramref name="index"/> of the event, valid on <paramref name="validDay"/>, in the slice.</summary>
        public void Add(int index, int validDay, decimal chipHours, decimal amount, decimal? tokens, int records)
        {
            LastIndex = index;
            ValidFromDay = Math.Min(ValidFromDay, validDay);
            ValidToDay = Math.Max(ValidToDay, validDay);
            Entries++;
            Amount += amount;
            ChipHours += chipHours;
            Records += records;
            if (tokens is { } t)
            {
                Tokens += t;
                TokenizedAmount += amount;
            }
        }
    }

    public sealed record Page(int EntryCount, IReadOnlyCollection<CountRow> Counts, IReadOnlyCollection<Slice> Slices);

    /// <summary>
    /// Pure: the slices of a run of events and the increments of the figures' counts they make. A batch of records is
    /// folded record by record without building its entries (<see cref="FoldBatch"/>); every other event through its
    /// entries. <see cref="FoldPerEntry"/> folds every event through its entries: the definition tests hold this to.
    /// </summary>
    public static Page Fold(IEnumerable<IEvent> events) => Fold(events, batchesByRecord: true);

    /// <summary>The fold through <see cref="UsageLineage.Entries"/> for every event, batches included.</summary>
    public static Page FoldPerEntry(IEnumerable<IEvent> events) => Fold(events, batchesByRecord: false);

    private static Page Fold(IEnumerable<IEvent> events, bool batchesByRecord)
    {
        var entryCount = 0;
        var slices = new Dictionary<(long Seq, string Provider, string Chip, string CommitmentId, int Month, int ValidMonth, long KnownNs, string Currency), Slice>();
        // First by (day, day): the records of a batch mostly share both, so the grains are expanded from few sums.
        var days = new Dictionary<(string Provider, string Chip, int Month, int ValidDay, int KnownDay, string Currency), (long Entries, long ChipMonthEvents, long ProviderMonthEvents, decimal Amount)>();
        foreach (var e in events)
        {
            if (batchesByRecord && e.Data is UsageRecorded batch && Countable.Of(batch) == Countable.Verdict.Count)
            {
                entryCount += FoldBatch(batch, e, slices, days);
                continue;
            }

            foreach (var entry in UsageLineage.Entries(e.Data, e.Sequence, e.Id, Instant.FromDateTimeOffset(e.Timestamp)))
            {
                entryCount++;
                var d = entry.Delta;
                var key = (d.Provider, d.Chip, Months.IndexOf(d.CountedAt), UsageBucket.DayOf(d.ValidAt), UsageBucket.DayOf(d.KnownAt), d.Amount.Currency);
                var sliceKey = (entry.Sequence, d.Provider, d.Chip, d.CommitmentId, key.Item3, Months.IndexOf(d.ValidAt), UsageLineage.Nanos(d.KnownAt), d.Amount.Currency);
                if (!slices.TryGetValue(sliceKey, out var slice))
                {
                    slices[sliceKey] = slice = new Slice
                    {
                        Sequence = entry.Sequence, EventId = entry.EventId, Provider = d.Provider, Chip = d.Chip, CommitmentId = d.CommitmentId,
                        MonthIndex = sliceKey.Item5, ValidFromDay = key.Item4, ValidToDay = key.Item4, KnownNs = sliceKey.Item7, Currency = d.Amount.Currency, FirstIndex = entry.Index,
                    };
                }

                slice.Add(entry.Index, key.Item4, d.ChipHours, d.Amount.Amount, d.Tokens, d.Records);
                var sum = days.GetValueOrDefault(key);
                days[key] = (sum.Entries + 1, sum.ChipMonthEvents + (entry.Firsts & LineageEntry.FirstOfChipMonth),
                    sum.ProviderMonthEvents + ((entry.Firsts & LineageEntry.FirstOfProviderMonth) >> 1), sum.Amount + d.Amount.Amount);
            }
        }

        return new Page(entryCount, Counts(days), slices.Values);
    }

    /// <summary>
    /// A countable batch, record by record, as <see cref="UsageLineage.Entries"/> would give it: entry i is record i,
    /// counted and valid at its start, known at the event's time; the first of a chip-month (and of a provider-month) is
    /// the record with the earliest start, the earlier one on a tie. Provider, commitment, currency and known time are
    /// the batch's, so the records are summed under (chip, month) and (chip, month, valid day) before the page's keys.
    /// </summary>
    private static int FoldBatch(UsageRecorded batch, IEvent e,
        Dictionary<(long, string, string, string, int, int, long, string), Slice> slices,
        Dictionary<(string, string, int, int, int, string), (long Entries, long ChipMonthEvents, long ProviderMonthEvents, decimal Amount)> days)
    {
        var knownAt = Instant.FromDateTimeOffset(e.Timestamp);
        var (knownNs, knownDay) = (UsageLineage.Nanos(knownAt), UsageBucket.DayOf(knownAt));
        var records = batch.Records;
        var totals = BatchTotals.Of(batch);
        var (chips, chipOf) = (totals.Chips, totals.ChipOf);
        var months = new int[records.Count];
        var firstOfChipMonth = new Dictionary<(int Chip, int Month), int>();
        var firstOfMonth = new Dictionary<int, int>();
        for (var i = 0; i < records.Count; i++)
        {
            var (start, month) = (records[i].Start, months[i] = Months.IndexOf(records[i].Start));
            if (!firstOfChipMonth.TryGetValue((chipOf[i], month), out var c) || start < records[c].Start)
            {
                firstOfChipMonth[(chipOf[i], month)] = i;
            }

            if (!firstOfMonth.TryGetValue(month, out var p) || start < records[p].Start)
            {
                firstOfMonth[month] = i;
            }
        }

        var batchSlices = new Dictionary<(int Chip, int Month), Slice>();
        var batchDays = new Dictionary<(int Chip, int Month, int ValidDay), (long Entries, long ChipMonthEvents, long ProviderMonthEvents, decimal Amount)>();
        foreach (var i in firstOfChipMonth.Values)
        {
            var key = (chipOf[i], months[i], UsageBucket.DayOf(records[i].Start));
            batchDays[key] = batchDays.GetValueOrDefault(key) with { ChipMonthEvents = 1 };
        }

        foreach (var i in firstOfMonth.Values)
        {
            var key = (chipOf[i], months[i], UsageBucket.DayOf(records[i].Start));
            batchDays[key] = batchDays.GetValueOrDefault(key) with { ProviderMonthEvents = 1 };
        }

        for (var i = 0; i < records.Count; i++)
        {
            var r = records[i];
            var validDay = UsageBucket.DayOf(r.Start);
            if (!batchSlices.TryGetValue((chipOf[i], months[i]), out var slice))
            {
                batchSlices[(chipOf[i], months[i])] = slice = new Slice
                {
                    Sequence = e.Sequence, EventId = e.Id, Provider = batch.Provider, Chip = r.Chip, CommitmentId = batch.CommitmentId,
                    MonthIndex = months[i], ValidFromDay = validDay, ValidToDay = validDay, KnownNs = knownNs, Currency = batch.Currency, FirstIndex = i,
                };
            }

            slice.Add(i, validDay, r.ChipHours, r.Amount, r.Tokens, 1);
            var sum = batchDays.GetValueOrDefault((chipOf[i], months[i], validDay));
            batchDays[(chipOf[i], months[i], validDay)] = sum with { Entries = sum.Entries + 1, Amount = sum.Amount + r.Amount };
        }

        foreach (var ((chip, month), slice) in batchSlices)
        {
            slices[(e.Sequence, batch.Provider, chips[chip], batch.CommitmentId, month, month, knownNs, batch.Currency)] = slice;
        }

        foreach (var ((chip, month, validDay), add) in batchDays)
        {
            var key = (batch.Provider, chips[chip], month, validDay, knownDay, batch.Currency);
            var sum = days.GetValueOrDefault(key);
            days[key] = (sum.Entries + add.Entries, sum.ChipMonthEvents + add.ChipMonthEvents, sum.ProviderMonthEvents + add.ProviderMonthEvents, sum.Amount + add.Amount);
        }

        return records.Count;
    }

    /// <summary>The day sums expanded to the four grains of the two figures' counts.</summary>
    private static IReadOnlyCollection<CountRow> Counts(
        Dictionary<(string Provider, string Chip, int Month, int ValidDay, int KnownDay, string Currency), (long Entries, long ChipMonthEvents, long ProviderMonthEvents, decimal Amount)> days)
    {
        var counts = new Dictionary<(string, string, string, int, string, int, int, string), CountRow>();
        foreach (var ((provider, chip, month, validDay, knownDay, currency), sum) in days)
        {
            foreach (var grain in UsageBucket.Delta.Grains)
            {
                var valid = grain[0] == 'd' ? validDay : Months.IndexOf(UsageLineage.DayStart(validDay));
                var known = grain[1] == 'd' ? knownDay : Months.IndexOf(UsageLineage.DayStart(knownDay));
                foreach (var (figure, figureChip, figureEvents) in new[] { (ChipMonth, chip, sum.ChipMonthEvents), (ProviderMonth, "", sum.ProviderMonthEvents) })
                {
                    var key = (figure, provider, figureChip, month, grain, valid, known, currency);
                    if (!counts.TryGetValue(key, out var row))
                    {
                        counts[key] = row = new CountRow
                        {
                            Figure = figure, Provider = provider, Chip = figureChip, MonthIndex = month, Grain = grain, ValidUnit = valid, KnownUnit = known,
                            Currency = currency,
                        };
                    }

                    row.Entries += sum.Entries;
                    row.Events += figureEvents;
                    row.Amount += sum.Amount;
                }
            }
        }

        return counts.Values;
    }

    public Task ApplyAsync(IDocumentOperations operations, IReadOnlyList<IEvent> events, CancellationToken cancellation)
    {
        var (entryCount, counts, slices) = Fold(events);
        if (entryCount == 0)
        {
            return Task.CompletedTask;
        }

        operations.QueueSqlCommand($"""
            insert into {schema}.{TableName} (seq, event_id, provider, chip, commitment_id, month_index, valid_from_day, valid_to_day, known_ns, currency,
                entries, amount, first_idx, last_idx, chip_hours, tokens, tokenized_amount, records)
            select * from unnest(?::bigint[], ?::uuid[], ?::text[], ?::text[], ?::text[], ?::int[], ?::int[], ?::int[], ?::bigint[], ?::text[],
                ?::int[], ?::numeric[], ?::int[], ?::int[], ?::numeric[], ?::numeric[], ?::numeric[], ?::int[])
            """,
            slices.Select(r => r.Sequence).ToArray(), slices.Select(r => r.EventId).ToArray(), slices.Select(r => r.Provider).ToArray(),
            slices.Select(r => r.Chip).ToArray(), slices.Select(r => r.CommitmentId).ToArray(), slices.Select(r => r.MonthIndex).ToArray(),
            slices.Select(r => r.ValidFromDay).ToArray(), slices.Select(r => r.ValidToDay).ToArray(), slices.Select(r => r.KnownNs).ToArray(), slices.Select(r => r.Currency).ToArray(),
            slices.Select(r => r.Entries).ToArray(), slices.Select(r => r.Amount).ToArray(), slices.Select(r => r.FirstIndex).ToArray(),
            slices.Select(r => r.LastIndex).ToArray(), slices.Select(r => r.ChipHours).ToArray(), slices.Select(r => r.Tokens).ToArray(),
            slices.Select(r => r.TokenizedAmount).ToArray(), slices.Select(r => r.Records).ToArray());

        operations.QueueSqlCommand($"""
            insert into {schema}.{CountsTableName} as c (figure, provider, chip, month_index, grain, valid_unit, known_unit, currency, entries, events, amount)
            select * from unnest(?::text[], ?::text[], ?::text[], ?::int[], ?::text[], ?::int[], ?::int[], ?::text[], ?::bigint[], ?::bigint[], ?::numeric[])
            on conflict (figure, provider, chip, month_index, grain, valid_unit, known_unit, currency) do update
                set entries = c.entries + excluded.entries, events = c.events + excluded.events, amount = c.amount + excluded.amount
            """,
            counts.Select(r => r.Figure).ToArray(), counts.Select(r => r.Provider).ToArray(), counts.Select(r => r.Chip).ToArray(),
            counts.Select(r => r.MonthIndex).ToArray(), counts.Select(r => r.Grain).ToArray(), counts.Select(r => r.ValidUnit).ToArray(),
            counts.Select(r => r.KnownUnit).ToArray(), counts.Select(r => r.Currency).ToArray(), counts.Select(r => r.Entries).ToArray(),
            counts.Select(r => r.Events).ToArray(), counts.Select(r => r.Amount).ToArray());
        return Task.CompletedTask;
    }
}

/// <summary>
/// Reads of the lineage tables, all inside one repeatable-read transaction, so the projection's progress mark
/// (<see cref="Mark"/>) and the rows belong together: a caller adds the events after the mark itself (the tail).
/// </summary>
public sealed class LineageReader : IAsyncDisposable
{
    private readonly NpgsqlConnection _connection;
    private readonly NpgsqlTransaction _transaction;
    private readonly string _schema;
    private readonly IQuerySession _session;

    private LineageReader(NpgsqlConnection connection, NpgsqlTransaction transaction, string schema, long mark, IQuerySession session)
    {
        (_connection, _transaction, _schema, Mark, _session) = (connection, transaction, schema, mark, session);
    }

    /// <summary>
    /// The last sequence the lineage rows hold (0 before the first page, or after a rebuild emptied them). Read from
    /// Marten's mt_event_progression with a statement of its own (<see cref="MarkSql"/>; closing a known day reads it and
    /// the high-water mark beside it): Marten's progress API reads on a connection of its own, outside the snapshot the
    /// rows are read in. Guarded by
    /// <c>tests/Host.Tests/Lineage/Progress_marks_are_Martens.cs</c>, which holds it against Marten's API.
    /// </summary>
    public long Mark { get; }

    /// <summary>The statement that reads <see cref="Mark"/> (one column, <c>seq</c>); closing a known day reads it too (<see cref="KnownDayHours"/>).</summary>
    public static string MarkSql(IDocumentStore store) =>
        $"select coalesce(max(last_seq_id), 0) as seq from {store.Options.Events.DatabaseSchemaName}.mt_event_progression where name = '{UsageLineageSlices.ProjectionName}:All'";

    public static async Task<LineageReader> Open(IQuerySession session, CancellationToken ct)
    {
        var connection = session.DocumentStore.Storage.Database.CreateConnection();
        try
        {
            await connection.OpenAsync(ct);
            var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, ct);
            await using var command = new NpgsqlCommand(MarkSql(session.DocumentStore), connection, transaction);
            var mark = (long)(await command.ExecuteScalarAsync(ct))!;
            return new LineageReader(connection, transaction, session.DocumentStore.Options.DatabaseSchemaName, mark, session);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// One keyset page of a figure's entries after (<paramref name="afterSeq"/>, <paramref name="afterIdx"/>) up to
    /// sequence <paramref name="upTo"/>, inside both axes (exclusive bounds in nanoseconds). <paramref name="chip"/> null: the provider-month.
    /// Walks the figure's slices by keyset, then expands the entries of just enough events (the slices' counts say how
    /// many) from the events themselves: at most <paramref name="take"/> entries' worth of events, plus the one that crosses it.
    /// </summary>
    public async Task<List<LineageEntry>> Page(string provider, string? chip, int month, long afterSeq, int afterIdx, long upTo,
        long validBefore, long knownBefore, int take, CancellationToken ct)
    {
        var page = new List<LineageEntry>();
        var validDayMax = validBefore == long.MaxValue ? int.MaxValue : UsageBucket.DayOf(UsageLineage.FromNanos(validBefore - 1));
        upTo = Math.Min(upTo, Mark);
        while (page.Count < take)
        {
            var need = take - page.Count;
            await using var command = Command($"""
                select seq, entries from {_schema}.{UsageLineageSlices.TableName}
                where provider = @provider {(chip is null ? "" : "and chip = @chip")} and month_index = @month
                  and seq >= @after_seq and not (seq = @after_seq and last_idx <= @after_idx) and seq <= @up_to
                  and valid_from_day <= @valid_day_max and known_ns < @known_before
                order by {(chip is null ? "provider, month_index" : "provider, chip, month_index")}, seq, first_idx
                limit @take
                """);
            command.Parameters.Add(new NpgsqlParameter("provider", provider));
            if (chip is not null)
            {
                command.Parameters.Add(new NpgsqlParameter("chip", chip));
            }

            command.Parameters.Add(new NpgsqlParameter("month", month));
            command.Parameters.Add(new NpgsqlParameter("after_seq", afterSeq));
            command.Parameters.Add(new NpgsqlParameter("after_idx", afterIdx));
            command.Parameters.Add(new NpgsqlParameter("up_to", upTo));
            command.Parameters.Add(new NpgsqlParameter("valid_day_max", validDayMax));
            command.Parameters.Add(new NpgsqlParameter("known_before", knownBefore));
            command.Parameters.Add(new NpgsqlParameter("take", need));
            var sequences = new List<long>();
            var (rows, worth, more) = (0, 0L, false);
            await using (var reader = await command.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct))
                {
                    rows++;
                    if (worth >= need)
                    {
                        more = true;
                        break;
                    }

                    var seq = reader.GetInt64(0);
                    if (sequences.Count == 0 || sequences[^1] != seq)
                    {
                        sequences.Add(seq);
                    }

                    worth += reader.GetInt32(1);
                }
            }

            if (sequences.Count == 0)
            {
                break;
            }

            var (cursorSeq, cursorIdx) = (afterSeq, afterIdx);
            page.AddRange((await Expand(sequences, ct)).Where(e =>
                e.Delta.Provider == provider && (chip is null || e.Delta.Chip == chip) && Months.IndexOf(e.Delta.CountedAt) == month
                && (e.Sequence > cursorSeq || (e.Sequence == cursorSeq && e.Index > cursorIdx))
                && UsageLineage.Nanos(e.Delta.ValidAt) < validBefore && UsageLineage.Nanos(e.Delta.KnownAt) < knownBefore));
            if (!more && rows < need)
            {
                break;
            }

            (afterSeq, afterIdx) = (sequences[^1], int.MaxValue);
        }

        return page.Take(take).ToList();
    }

    /// <summary>The counts and sum of one figure from its buckets below both whole-day bounds (calendar-bounded).</summary>
    public async Task<LineageCounts> Counts(string figure, string provider, string chip, int month, UnitBound valid, UnitBound known, CancellationToken ct)
    {
        await using var command = Command($"""
            select currency, sum(entries)::bigint, sum(events)::bigint, sum(amount) from {_schema}.{UsageLineageSlices.CountsTableName}
            where figure = @figure and provider = @provider and chip = @chip and month_index = @month and {UnitBound.Sql}
            group by currency
            """);
        command.Parameters.Add(new NpgsqlParameter("figure", figure));
        command.Parameters.Add(new NpgsqlParameter("provider", provider));
        command.Parameters.Add(new NpgsqlParameter("chip", chip));
        command.Parameters.Add(new NpgsqlParameter("month", month));
        UnitBound.AddParameters(command, valid, known);
        var counts = LineageCounts.None;
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            counts = counts.Plus(new LineageCounts(reader.GetInt64(1), reader.GetInt64(2), reader.GetDecimal(3), reader.GetString(0)));
        }

        return counts;
    }

    /// <summary>
    /// The counts and sum of one figure's entries on the boundary days of instant axes (<see cref="BoundaryDays"/>).
    /// <paramref name="chip"/> null: the provider-month.
    /// </summary>
    public async Task<LineageCounts> BoundaryCounts(string provider, string? chip, int month, BoundaryDays days, CancellationToken ct)
    {
        var entries = (await Expand((await Boundary(days, knownDayFromRows: false, ct)).Sequences, ct)).Where(e => days.Holds(e.Delta));
        return LineageCounts.Of(entries.Where(e => e.Delta.Provider == provider && (chip is null || e.Delta.Chip == chip) && Months.IndexOf(e.Delta.CountedAt) == month),
            chip is null ? LineageEntry.FirstOfProviderMonth : LineageEntry.FirstOfChipMonth);
    }

    /// <summary>
    /// The records of a stored batch's records value (its text, as <c>data ->> 'records'</c> gives it) whose start is in
    /// [from, before), the others left undecoded; null when the value's layout cannot be picked from (the batch is then
    /// read whole). The layout is the host's; this is how the reader asks for it.
    /// </summary>
    public delegate IReadOnlyList<RecordedUsage>? RecordPicker(ReadOnlySpan<byte> records, Instant from, Instant before);

    /// <summary>
    /// The contributions on the boundary days up to the mark, for every figure, summed as day buckets: what the usage views need.
    /// Counts of events are not needed here, so an event recorded on the boundary known day whose records all lie before
    /// the boundary valid day is summed from its slices (<see cref="SummableFromRows"/>); any other batch is read as its
    /// header and only the records whose start the days can hold (<paramref name="pick"/>), so the batches that span the
    /// boundary valid day are scanned, not decoded. Any other event is loaded whole. Every event named here was folded
    /// into slices, so each batch is countable whole (<see cref="Countable"/>), and a part of it is too.
    /// </summary>
    public async Task<List<UsageBucket>> BoundaryDaySums(BoundaryDays days, RecordPicker pick, CancellationToken ct)
    {
        var (fromRows, sequences) = await Boundary(days, knownDayFromRows: true, ct);
        var (deltas, picked) = await PickedBatchDeltas(sequences, days, pick, ct);
        var whole = await Load(sequences.Where(s => !picked.Contains(s)).ToList(), ct);
        deltas.AddRange(whole.SelectMany(e => UsageLineage.BoundaryDeltas(e.Data, Instant.FromDateTimeOffset(e.Timestamp), days)));

        // One day bucket per key, not one per record: a boundary day of a dense history holds thousands of records.
        var sums = new Dictionary<(string, string, string, int, int, int, string), UsageBucket>();
        foreach (var d in deltas)
        {
            var key = (d.Provider, d.Chip, d.CommitmentId, Months.IndexOf(d.CountedAt), d.ValidUnit("dd"), d.KnownUnit("dd"), d.Amount.Currency);
            sums[key] = UsageBucket.Add(sums.GetValueOrDefault(key), d, "dd");
        }

        return [.. fromRows, .. sums.Values];
    }

    /// <summary>
    /// The boundary deltas of the batches among <paramref name="sequences"/>, each read as its header and the records
    /// <paramref name="pick"/> gives, and the sequences so handled (a batch recorded after the days needs nothing). A
    /// batch whose records cannot be picked from, and any other event, is left to be loaded whole.
    /// </summary>
    private async Task<(List<UsageBucket.Delta> Deltas, HashSet<long> Picked)> PickedBatchDeltas(IReadOnlyList<long> sequences, BoundaryDays days,
        RecordPicker pick, CancellationToken ct)
    {
        var (deltas, picked) = (new List<UsageBucket.Delta>(), new HashSet<long>());
        if (sequences.Count == 0)
        {
            return (deltas, picked);
        }

        var serializer = _session.DocumentStore.Options.Serializer();
        await using var command = Command($"""
            select seq_id, timestamp, data - 'records', convert_to(data ->> 'records', 'UTF8') from {_session.DocumentStore.Options.Events.DatabaseSchemaName}.mt_events
            where seq_id = any(@sequences) and type = @type and is_archived = false
            """);
        command.Parameters.Add(new NpgsqlParameter("sequences", sequences.ToArray()));
        command.Parameters.Add(new NpgsqlParameter("type", LineageEntry.RecordedType));
        // Sequential: a batch's row (~35 KB here) is streamed column by column into one pooled buffer, rather than each
        // row being buffered whole in a new array (most of what an instant allocated).
        await using var reader = await command.ExecuteReaderAsync(CommandBehavior.SequentialAccess, ct);
        byte[]? buffer = null;
        try
        {
            while (await reader.ReadAsync(ct))
            {
                var sequence = reader.GetInt64(0);
                var knownAt = Instant.FromDateTimeOffset(reader.GetFieldValue<DateTimeOffset>(1));
                if (days.StartsHeldFor(UsageLineage.Nanos(knownAt)) is not { } held)
                {
                    picked.Add(sequence);
                    continue;
                }

                // The header is small; read as text (a jsonb stream read under sequential access came back cut short).
                using var headerJson = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(reader.GetString(2)));
                var header = serializer.FromJson<UsageRecorded>(headerJson);
                if (await reader.IsDBNullAsync(3, ct))
                {
                    continue;
                }

                var length = checked((int)reader.GetBytes(3, 0, null, 0, 0));
                buffer = Grown(buffer, length);
                var read = 0;
                for (int chunk; read < length && (chunk = (int)reader.GetBytes(3, read, buffer, read, length - read)) > 0;)
                {
                    read += chunk;
                }

                if (pick(buffer.AsSpan(0, read), UsageLineage.FromNanos(held.From), UsageLineage.FromNanos(held.Before)) is { } records)
                {
                    picked.Add(sequence);
                    deltas.AddRange(UsageLineage.BoundaryDeltas(header, records, knownAt, days));
                }
            }
        }
        finally
        {
            if (buffer is not null)
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        return (deltas, picked);

        static byte[] Grown(byte[]? buffer, int size)
        {
            if (buffer is not null && buffer.Length >= size)
            {
                return buffer;
            }

            if (buffer is not null)
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
            }

            return System.Buffers.ArrayPool<byte>.Shared.Rent(size);
        }
    }

    /// <summary>
    /// Of the events recorded on the boundary known day, one whose slices are all either before the boundary valid day
    /// (with their sums) or after it contributes exactly its slices before that day: its records are all valid earlier, or
    /// not on the boundary at all. An aggregate over one event's slices.
    /// </summary>
    private const string SummableFromRows = "bool_and(valid_from_day > @valid_day or (valid_to_day < @valid_day and records is not null))";

    /// <summary>
    /// The events with contributions on the boundary days up to the mark, read in one round trip: the slices of the
    /// boundary valid day (known before the bound) and of the boundary known day (valid earlier) name them. The cost is
    /// one day's events, not the history's. With <paramref name="knownDayFromRows"/>, rows stand in for events where they
    /// can, summed as buckets: the known day's events that need no replay (<see cref="SummableFromRows"/>) from their
    /// slices, so a backfill recorded that day is read as a few rows per event; and the valid day's events of closed
    /// known days from those days' hourly rows (<see cref="KnownDayHours.BoundaryCtes"/>), so the weeks of batches that
    /// span the valid day are read as a row per chip and known day, not as their records.
    /// </summary>
    private async Task<(List<UsageBucket> Sums, List<long> Sequences)> Boundary(BoundaryDays days, bool knownDayFromRows, CancellationToken ct)
    {
        var slices = $"{_schema}.{UsageLineageSlices.TableName}";
        const string knownDay = "known_ns >= @known_day and known_ns < @known_before and seq <= @mark";
        var ctes = KnownDayHours.BoundaryCtes(_schema, slices);
        var sumsSql = knownDayFromRows
            ? $"""
              with {ctes},
              summable as (select seq from {slices} where {knownDay} group by seq having {SummableFromRows})
              select {UsageBucket.SumColumns}, sum(chip_hours), sum(amount), sum(tokens), sum(tokenized_amount), sum(records)
              from {slices}
              where {knownDay} and valid_to_day < @valid_day and seq in (select seq from summable)
              group by {UsageBucket.SumColumns}
              union all
              {KnownDayHours.BoundarySumsSql(_schema)};
              """
            : "";
        await using var command = Command($"""
            {sumsSql}
            with {ctes}
            select seq from valid_slices v where not {KnownDayHours.HeldByClosedDay}
            union
            select seq from {slices}
            where {knownDay}
            group by seq
            having bool_or(valid_from_day <= @valid_day) and not (@rows and {SummableFromRows})
            order by 1
            """);
        AddBoundaryParameters(command, days);
        command.Parameters.Add(new NpgsqlParameter("rows", knownDayFromRows));
        var (sums, sequences) = (new List<UsageBucket>(), new List<long>());
        await using var reader = await command.ExecuteReaderAsync(ct);
        if (knownDayFromRows)
        {
            while (await reader.ReadAsync(ct))
            {
                sums.Add(UsageBucket.FromSumRow(reader));
            }

            await reader.NextResultAsync(ct);
        }

        while (await reader.ReadAsync(ct))
        {
            sequences.Add(reader.GetInt64(0));
        }

        return (sums, sequences);
    }

    private void AddBoundaryParameters(NpgsqlCommand command, BoundaryDays days)
    {
        command.Parameters.Add(new NpgsqlParameter("valid_open", days.ValidDay < days.ValidBefore));
        command.Parameters.Add(new NpgsqlParameter("valid_day", days.ValidDay == long.MaxValue ? int.MaxValue : UsageBucket.DayOf(UsageLineage.FromNanos(days.ValidDay))));
        command.Parameters.Add(new NpgsqlParameter("known_day", days.KnownDay));
        command.Parameters.Add(new NpgsqlParameter("known_before", days.KnownBefore));
        command.Parameters.Add(new NpgsqlParameter("mark", Mark));
        command.Parameters.Add(new NpgsqlParameter("known_day_number", days.KnownDay == long.MaxValue ? int.MaxValue : UsageBucket.DayOf(UsageLineage.FromNanos(days.KnownDay))));
        var (slot, offset) = KnownDayHours.SlotOf(days);
        command.Parameters.Add(new NpgsqlParameter("slot", slot));
        command.Parameters.Add(new NpgsqlParameter("offset", offset));
    }

    /// <summary>
    /// The net change of every figure month up to <paramref name="pastMonth"/> recorded in [from, to) (nanoseconds), with
    /// its distinct events in log order (the first <see cref="LineageChange.MaxEventIds"/>). Reads the window's rows only.
    /// </summary>
    public async Task<List<LineageChange>> Changes(long from, long to, int pastMonth, CancellationToken ct)
    {
        await using var command = Command($"""
            with window_rows as (
                select seq, event_id, provider, chip, commitment_id, month_index, currency, amount from {_schema}.{UsageLineageSlices.TableName}
                where known_ns >= @from and known_ns < @to and seq <= @mark and month_index <= @past),
            per_event as (
                select 'chipSpend' as figure, provider, chip, null::text as commitment_id, month_index, currency, seq, event_id, sum(amount) as amount
                from window_rows group by provider, chip, month_index, currency, seq, event_id
                union all
                select 'providerRevenue', provider, null, null, month_index, currency, seq, event_id, sum(amount)
                from window_rows group by provider, month_index, currency, seq, event_id
                union all
                select 'commitmentDrawdown', provider, null, commitment_id, month_index, currency, seq, event_id, sum(amount)
                from window_rows group by provider, commitment_id, month_index, currency, seq, event_id)
            select figure, provider, chip, commitment_id, month_index, currency, sum(amount), count(*),
                   (array_agg(event_id order by seq))[1:{LineageChange.MaxEventIds}]
            from per_event group by figure, provider, chip, commitment_id, month_index, currency
            """);
        command.Parameters.Add(new NpgsqlParameter("from", from));
        command.Parameters.Add(new NpgsqlParameter("to", to));
        command.Parameters.Add(new NpgsqlParameter("mark", Mark));
        command.Parameters.Add(new NpgsqlParameter("past", pastMonth));
        var changes = new List<LineageChange>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            changes.Add(new LineageChange(reader.GetString(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2),
                reader.IsDBNull(3) ? null : reader.GetString(3), reader.GetInt32(4), reader.GetString(5), reader.GetDecimal(6), reader.GetInt64(7),
                reader.GetFieldValue<Guid[]>(8)));
        }

        return changes;
    }

    public async ValueTask DisposeAsync()
    {
        await _transaction.DisposeAsync();
        await _connection.DisposeAsync();
    }

    private NpgsqlCommand Command(string sql) => new(sql, _connection, _transaction);

    /// <summary>The entries of some events, loaded by sequence and expanded by the same pure step as the daemon's.</summary>
    private async Task<List<LineageEntry>> Expand(IReadOnlyList<long> sequences, CancellationToken ct) =>
        (await Load(sequences, ct)).SelectMany(e => UsageLineage.Entries(e.Data, e.Sequence, e.Id, Instant.FromDateTimeOffset(e.Timestamp))).ToList();

    /// <summary>Some events, by sequence, in log order.</summary>
    private async Task<IReadOnlyList<IEvent>> Load(IReadOnlyList<long> sequences, CancellationToken ct)
    {
        if (sequences.Count == 0)
        {
            return [];
        }

        var wanted = sequences.ToArray();
        return await _session.Events.QueryAllRawEvents().Where(e => wanted.Contains(e.Sequence)).OrderBy(e => e.Sequence).ToListAsync(ct);
    }
}
