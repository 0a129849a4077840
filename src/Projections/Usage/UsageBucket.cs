using ComputeLedger.Ledger.Usage;
using JasperFx.Events;
using JasperFx.Events.Daemon;
using JasperFx.Events.Projections;
using Marten;
using Marten.Events.Projections;
using Weasel.Postgresql;
using Weasel.Postgresql.Tables;

namespace ComputeLedger.Projections.Usage;

/// <summary>
/// Bitemporal snapshot of usage: the usage deltas of one provider, chip, commitment and month whose valid time falls in
/// one valid unit and which were recorded in one known unit. Each delta is kept at four grains: (valid day, known day),
/// (valid month, known day), (valid day, known month), (valid month, known month). An as-of / known-at question on whole
/// days sums whole months where it can and days only inside the two boundary months, so it reads at most about
/// (months + 31) × (months + 31) rows per key, however many events there are.
/// This file is longer than 200 lines because it is the one home of <c>usage_buckets</c>: the bucket's fold and every
/// statement against its table (<see cref="UsageBucketRows"/>).
/// </summary>
public sealed class UsageBucket
{
    public string Id { get; set; } = "";
    public string Provider { get; set; } = "";
    public string Chip { get; set; } = "";
    public string CommitmentId { get; set; } = "";
    public string Month { get; set; } = "";
    public int MonthIndex { get; set; }
    /// <summary>"dd", "md", "dm" or "mm": the grain of the valid unit, then of the known unit (d = UTC day, m = month).</summary>
    public string Grain { get; set; } = "";

    /// <summary>Days since 1970-01-01 when the valid grain is d; <see cref="Months.Index"/> when it is m.</summary>
    public int ValidUnit { get; set; }

    /// <summary>Days since 1970-01-01 when the known grain is d; <see cref="Months.Index"/> when it is m.</summary>
    public int KnownUnit { get; set; }
    public string Currency { get; set; } = "";
    public decimal ChipHours { get; set; }
    public decimal Amount { get; set; }
    /// <summary>Decimal, like chip spend's: a month of large token counts passes long's range.</summary>
    public decimal Tokens { get; set; }
    public decimal TokenizedAmount { get; set; }
    public long Records { get; set; }

    /// <summary>One signed contribution of an event to a bucket.</summary>
    public sealed record Delta(string Provider, string Chip, string CommitmentId, Instant CountedAt, Instant ValidAt, Instant KnownAt,
        decimal ChipHours, Money Amount, decimal? Tokens, int Records)
    {
        public static readonly string[] Grains = ["dd", "md", "dm", "mm"];

        public int ValidUnit(string grain) => grain[0] == 'd' ? DayOf(ValidAt) : Months.IndexOf(ValidAt);

        public int KnownUnit(string grain) => grain[1] == 'd' ? DayOf(KnownAt) : Months.IndexOf(KnownAt);

        public string Key(string grain) => $"{Provider}|{Chip}|{CommitmentId}|{Months.Of(CountedAt)}|{grain}|{ValidUnit(grain)}|{KnownUnit(grain)}";
    }

    /// <summary>UTC days since 1970-01-01, rounded down (also before 1970).</summary>
    public static int DayOf(Instant instant)
    {
        var ticks = instant.ToUnixTimeTicks();
        var day = ticks / NodaConstants.TicksPerDay;
        return (int)(ticks % NodaConstants.TicksPerDay < 0 ? day - 1 : day);
    }

    /// <summary>
    /// The deltas of a usage event recorded at <paramref name="knownAt"/>: a consumption counts in its month; a void
    /// takes back the figures it cancels; a correction takes back the old figures and counts the new ones, both at the
    /// valid time of the record it changes.
    /// </summary>
    public static IEnumerable<Delta> Deltas(object @event, Instant knownAt) => @event switch
    {
        _ when Countable.Of(@event) != Countable.Verdict.Count => [],
        UsageRecorded batch => batch.Records.Select(r => Recorded(batch, r, knownAt)),
        ChipHoursConsumed c => [new Delta(c.Provider, c.Chip, c.CommitmentId, c.Start, c.Start, knownAt, c.ChipHours, c.Amount, c.Tokens, 1)],
        UsageVoided v => [Negative(v.Provider, v.Chip, v.CommitmentId, v.Voided, v.Voided.Start, knownAt)],
        UsageCorrected c =>
        [
            Negative(c.Provider, c.Chip, c.CommitmentId, c.Before, c.Before.Start, knownAt),
            new Delta(c.Provider, c.Chip, c.CommitmentId, c.After.Start, c.Before.Start, knownAt, c.After.ChipHours, c.After.Amount, c.After.Tokens, 1),
        ],
        _ => [],
    };

    /// <summary>
    /// <see cref="Deltas"/>, with a batch's records that share a chip, a UTC day and whether they carry tokens added up
    /// first (<see cref="BatchTotals"/>): the batch gives provider, commitment and known time, so such records land in
    /// the same bucket of every grain, and the fold does per (chip, day) what it did per record. Sums are decimal, as the
    /// bucket's own.
    /// </summary>
    public static IEnumerable<Delta> Combined(object @event, Instant knownAt)
    {
        if (@event is not UsageRecorded batch || Countable.Of(@event) != Countable.Verdict.Count)
        {
            return Deltas(@event, knownAt);
        }

        var totals = BatchTotals.Of(batch);
        return totals.ByDay.Select(d => new Delta(batch.Provider, totals.Chips[d.Chip], batch.CommitmentId, d.Start, d.Start, knownAt,
            d.ChipHours, new Money(d.Amount, batch.Currency), d.Tokenized ? d.Tokens : null, d.Records));
    }

    /// <summary>A batch's record, as the <see cref="ChipHoursConsumed"/> it stands for would give it: counted and valid at its start.</summary>
    public static Delta Recorded(UsageRecorded batch, RecordedUsage r, Instant knownAt) =>
        new(batch.Provider, r.Chip, batch.CommitmentId, r.Start, r.Start, knownAt, r.ChipHours, new Money(r.Amount, batch.Currency), r.Tokens, 1);

    private static Delta Negative(string provider, string chip, string commitment, UsageFigures f, Instant validAt, Instant knownAt) =>
        new(provider, chip, commitment, f.Start, validAt, knownAt, -f.ChipHours, f.Amount.Times(-1), -f.Tokens, -1);

    /// <summary>
    /// The columns every query that sums buckets (or lineage entries standing in for them) selects, in this order, so
    /// one reader turns a row into a bucket: provider, chip, commitment_id, month_index, currency, then the sums of
    /// chip_hours, amount, tokens, tokenized_amount and records.
    /// </summary>
    public const string SumColumns = "provider, chip, commitment_id, month_index, currency";

    public static UsageBucket FromSumRow(System.Data.Common.DbDataReader row)
    {
        var month = row.GetInt32(3);
        return new UsageBucket
        {
            Provider = row.GetString(0),
            Chip = row.GetString(1),
            CommitmentId = row.GetString(2),
            Month = Months.Of(UsageLineage.MonthStart(month)),
            MonthIndex = month,
            Currency = row.GetString(4),
            ChipHours = row.GetDecimal(5),
            Amount = row.GetDecimal(6),
            Tokens = row.GetDecimal(7),
            TokenizedAmount = row.GetDecimal(8),
            Records = Convert.ToInt64(row.GetValue(9), System.Globalization.CultureInfo.InvariantCulture),
        };
    }

    public static UsageBucket Add(UsageBucket? bucket, Delta d, string grain)
    {
        var row = bucket ?? new UsageBucket
        {
            Id = d.Key(grain),
            Provider = d.Provider,
            Chip = d.Chip,
            CommitmentId = d.CommitmentId,
            Month = Months.Of(d.CountedAt),
            MonthIndex = Months.IndexOf(d.CountedAt),
            Grain = grain,
            ValidUnit = d.ValidUnit(grain),
            KnownUnit = d.KnownUnit(grain),
            Currency = d.Amount.Currency,
        };

        row.ChipHours += d.ChipHours;
        row.Amount += d.Amount.Amount;
        row.Records += d.Records;
        if (d.Tokens is { } tokens)
        {
            row.Tokens += tokens;
            row.TokenizedAmount += d.Amount.Amount;
        }

        return row;
    }

    internal UsageBucket Copy() => (UsageBucket)MemberwiseClone();
}

/// <summary>
/// The time-travel buckets as rows of a plain table, kept by the async daemon. Each page of events is folded in memory
/// into one row per (key, grain, valid unit, known unit) — a pure step, <see cref="Fold"/> — and added to the table with
/// one set-based upsert, in the daemon's transaction, so every event is counted exactly once. Nothing is read back and
/// no JSON is written: the page costs one statement, however many buckets it touches.
/// An event that cannot be folded is left out and recorded as a dead letter in the same transaction: an exception at
/// this page level would pause the whole Usage composite, where the daemon's own dead-lettering only covers per-event
/// applies. <paramref name="time"/> stamps the dead letters (the ledger's clock, as for event timestamps).
/// The table's definition and every statement against it are in this class.
/// </summary>
public sealed class UsageBucketRows(string schema, TimeProvider time) : IProjection
{
    /// <summary>
    /// The daemon's name for it, and its progress row (<c>UsageBucketRows:All</c>). Marten names a member of a composite
    /// after its class, so the two cannot differ. (Renamed from "UsageBuckets" when the buckets moved from documents to a
    /// table, so an existing database refilled the table from the first event.)
    /// </summary>
    public const string ProjectionName = nameof(UsageBucketRows);

    public const string TableName = "usage_buckets";

    public static Table Table(string schema)
    {
        var table = new Table(new PostgresqlObjectName(schema, TableName, Weasel.Postgresql.SchemaUtils.IdentifierUsage.General));
        table.AddColumn<string>("id").AsPrimaryKey();
        table.AddColumn<string>("provider").NotNull();
        table.AddColumn<string>("chip").NotNull();
        table.AddColumn<string>("commitment_id").NotNull();
        table.AddColumn<string>("month").NotNull();
        table.AddColumn<int>("month_index").NotNull();
        table.AddColumn<string>("grain").NotNull();
        table.AddColumn<int>("valid_unit").NotNull();
        table.AddColumn<int>("known_unit").NotNull();
        table.AddColumn<string>("currency").NotNull();
        table.AddColumn("chip_hours", "numeric").NotNull();
        table.AddColumn("amount", "numeric").NotNull();
        // numeric, not bigint: the upsert adds every page's tokens here, and a sum past bigint would fail the whole page.
        // (Weasel alters an existing bigint column in place on startup.)
        table.AddColumn("tokens", "numeric").NotNull();
        table.AddColumn("tokenized_amount", "numeric").NotNull();
        table.AddColumn<long>("records").NotNull();
        // Time-travel sums pick a grain and ranges of valid and known units; without this they read every bucket.
        table.Indexes.Add(new IndexDefinition("ix_usage_buckets_grain_units") { Columns = ["grain", "valid_unit", "known_unit"] });
        return table;
    }

    /// <summary>The buckets before both bounds, summed per (provider, chip, commitment, month) inside PostgreSQL.</summary>
    public static async Task<IReadOnlyList<UsageBucket>> Sum(IQuerySession session, UnitBound valid, UnitBound known, CancellationToken ct)
    {
        await using var connection = session.DocumentStore.Storage.Database.CreateConnection();
        await connection.OpenAsync(ct);
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            select {UsageBucket.SumColumns}, sum(chip_hours), sum(amount), sum(tokens), sum(tokenized_amount), sum(records)
            from {session.DocumentStore.Options.DatabaseSchemaName}.{TableName}
            where {UnitBound.Sql}
            group by {UsageBucket.SumColumns}
            """;
        UnitBound.AddParameters(command, valid, known);
        var sums = new List<UsageBucket>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            sums.Add(UsageBucket.FromSumRow(reader));
        }

        return sums;
    }

    /// <summary>The increments of a page, one per bucket, and the events that could not be folded, with why.</summary>
    public sealed record Page(IReadOnlyCollection<UsageBucket> Rows, IReadOnlyList<(IEvent Event, Exception Error)> Refused);

    /// <summary>
    /// Pure: the bucket increments a run of events makes, one per bucket id. Each event counts whole or not at all: its
    /// increments are staged on copies and kept only when every one of them succeeded.
    /// </summary>
    public static Page Fold(IEnumerable<IEvent> events)
    {
        // Keyed by the parts of the bucket id rather than the id itself: formatting four ids per event was a
        // measurable share of the daemon's time. The id is formatted once, when a page first touches the bucket.
        var rows = new Dictionary<(string Provider, string Chip, string CommitmentId, int Month, string Grain, int Valid, int Known), UsageBucket>();
        var staged = new Dictionary<(string Provider, string Chip, string CommitmentId, int Month, string Grain, int Valid, int Known), UsageBucket>();
        var refused = new List<(IEvent, Exception)>();
        foreach (var e in events)
        {
            staged.Clear();
            try
            {
                foreach (var delta in UsageBucket.Combined(Countable.Require(e.Data), Instant.FromDateTimeOffset(e.Timestamp)))
                {
                    var month = Months.IndexOf(delta.CountedAt);
                    foreach (var grain in UsageBucket.Delta.Grains)
                    {
                        var key = (delta.Provider, delta.Chip, delta.CommitmentId, month, grain, delta.ValidUnit(grain), delta.KnownUnit(grain));
                        staged[key] = UsageBucket.Add(staged.GetValueOrDefault(key) ?? rows.GetValueOrDefault(key)?.Copy(), delta, grain);
                    }
                }
            }
#pragma warning disable CA1031 // Any exception from one event's fold is recorded as that event's refusal; the page goes on.
            catch (Exception error)
#pragma warning restore CA1031
            {
                // Whatever one event's figures do (an overflow, figures beyond the limits), they are that event's problem.
                refused.Add((e, error));
                continue;
            }

            foreach (var (key, row) in staged)
            {
                rows[key] = row;
            }
        }

        return new Page(rows.Values, refused);
    }

    public Task ApplyAsync(IDocumentOperations operations, IReadOnlyList<IEvent> events, CancellationToken cancellation)
    {
        var (rows, refused) = Fold(events);
        foreach (var (e, error) in refused)
        {
            operations.Store(new DeadLetterEvent
            {
                Id = Guid.CreateVersion7(),
                ProjectionName = ProjectionName,
                ShardName = ShardName.All,
                Timestamp = time.GetUtcNow(),
                ExceptionMessage = error.Message,
                ExceptionType = error.GetType().Name,
                EventSequence = e.Sequence,
                TenantId = e.TenantId,
            });
        }

        if (rows.Count == 0)
        {
            return Task.CompletedTask;
        }

        operations.QueueSqlCommand($"""
            insert into {schema}.{TableName} as b (id, provider, chip, commitment_id, month, month_index, grain, valid_unit, known_unit,
                currency, chip_hours, amount, tokens, tokenized_amount, records)
            select * from unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::int[], ?::text[], ?::int[], ?::int[],
                ?::text[], ?::numeric[], ?::numeric[], ?::numeric[], ?::numeric[], ?::bigint[])
            on conflict (id) do update set chip_hours = b.chip_hours + excluded.chip_hours, amount = b.amount + excluded.amount,
                tokens = b.tokens + excluded.tokens, tokenized_amount = b.tokenized_amount + excluded.tokenized_amount,
                records = b.records + excluded.records
            """,
            rows.Select(r => r.Id).ToArray(), rows.Select(r => r.Provider).ToArray(), rows.Select(r => r.Chip).ToArray(),
            rows.Select(r => r.CommitmentId).ToArray(), rows.Select(r => r.Month).ToArray(), rows.Select(r => r.MonthIndex).ToArray(),
            rows.Select(r => r.Grain).ToArray(), rows.Select(r => r.ValidUnit).ToArray(), rows.Select(r => r.KnownUnit).ToArray(),
            rows.Select(r => r.Currency).ToArray(), rows.Select(r => r.ChipHours).ToArray(), rows.Select(r => r.Amount).ToArray(),
            rows.Select(r => r.Tokens).ToArray(), rows.Select(r => r.TokenizedAmount).ToArray(), rows.Select(r => r.Records).ToArray());
        return Task.CompletedTask;
    }
}
