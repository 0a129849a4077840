using ComputeLedger.Ledger.Usage;
using Marten;
using Npgsql;
using NpgsqlTypes;
using Weasel.Postgresql;
using Weasel.Postgresql.Tables;

namespace ComputeLedger.Host.Usage;

/// <summary>
/// One accepted record as its claim stores it; <see cref="StreamId"/> is the stream that holds its event. It refers to
/// the record rather than copying its fields, so a batch's claims stay a small array.
/// </summary>
public readonly record struct UsageClaim(ChipHoursConsumed Record, string Fingerprint, string StreamId)
{
    public string UsageId => Record.UsageId;
}

/// <summary>
/// The <c>usage_claims</c> table: its definition and every statement against it. A claim is the idempotency key of a
/// usageId ever accepted, written in the same transaction as its event; it also keeps the record's current amount
/// (0 once voided) and what consumption milestones sum, an independent total for reconciliation.
/// Longer than 200 lines because it is the one home of its table: every statement against it lives here.
/// </summary>
public static class UsageClaims
{
    public const string TableName = "usage_claims";

    private const string Columns = "usage_id, fingerprint, commitment_id, stream_id, amount, currency, chip, chip_hours, start";

    public static Table Table(string schema)
    {
        var claims = new Table(new PostgresqlObjectName(schema, TableName, Weasel.Postgresql.SchemaUtils.IdentifierUsage.General));
        claims.AddColumn<string>("usage_id").AsPrimaryKey();
        claims.AddColumn<string>("fingerprint").NotNull();
        claims.AddColumn<string>("commitment_id").NotNull();
        claims.AddColumn<string>("stream_id").NotNull();
        claims.AddColumn("amount", "numeric").NotNull();
        claims.AddColumn<string>("currency").NotNull();
        claims.AddColumn<bool>("voided").NotNull().DefaultValueByExpression("false");
        // What consumption milestones sum, in valid-time order, inside the ingest transaction.
        claims.AddColumn<string>("chip");
        claims.AddColumn("chip_hours", "numeric");
        claims.AddColumn("start", "timestamptz");
        claims.AddColumn("recorded_at", "timestamptz").NotNull().DefaultValueByExpression("now()");
        return claims;
    }

    private static string Qualified(IQuerySession session) => $"{session.DocumentStore.Options.DatabaseSchemaName}.{TableName}";

    private static NpgsqlConnection Connection(IDocumentSession session) => (NpgsqlConnection)session.Connection!;

    /// <summary>
    /// Opens a batch's claim before the batch is judged. The savepoint and the COPY go out at once (after the session's
    /// <c>begin</c>, in one message), and the server's answer is awaited only by <see cref="Claim"/>: that round trip
    /// overlaps the judging of the records instead of following it. Call it in the session's open transaction, and
    /// dispose what it returns: a COPY that was never claimed into (every record rejected) is cancelled and its
    /// transaction rolled back to the savepoint, so the session is as it was.
    /// </summary>
    public static async Task<OpenClaim> Open(IDocumentSession session, CancellationToken ct)
    {
        var connection = Connection(session);
        var transaction = OpenTransaction(session);
        if (transaction is not null)
        {
            await transaction.SaveAsync(Savepoint, ct);
        }
        else
        {
            await Execute(connection, $"savepoint {Savepoint}", ct);
        }

        var table = Qualified(session);
        return new OpenClaim(connection, table, connection.BeginRawBinaryCopyAsync($"copy {table} ({Columns}) from stdin (format binary)", ct));
    }

    /// <summary>A claim's COPY, begun by <see cref="Open"/>; <see cref="Claim"/> writes into it.</summary>
    public sealed class OpenClaim(NpgsqlConnection connection, string table, Task<NpgsqlRawCopyStream> copy) : IAsyncDisposable
    {
        private bool _taken;

        internal NpgsqlConnection Connection => connection;

        internal string Table => table;

        internal Task<NpgsqlRawCopyStream> Take()
        {
            ObjectDisposedException.ThrowIf(_taken, this);
            _taken = true;
            return copy;
        }

        public async ValueTask DisposeAsync()
        {
            if (_taken)
            {
                return;
            }

            _taken = true;
            await using var stream = await copy;
            await Cancel(stream);
            await Execute(connection, RollbackToSavepoint, CancellationToken.None);
        }
    }

    /// <summary>
    /// Claims the records through the COPY <see cref="Open"/> began, in the session's open transaction; returns the
    /// usage ids that were new (the others were claimed before, by an earlier batch or a concurrent one that committed
    /// first), or null when every one was. Rows go in sorted by usageId, so two batches claiming overlapping ids wait on
    /// each other instead of deadlocking.
    /// <para>
    /// The common case, no id claimed before, is one COPY straight into the table (the physical floor: no array
    /// parameters to unpack, no speculative insertion per row), under a savepoint. If any id is taken, the COPY fails
    /// whole with a unique violation, the savepoint undoes it, and one <c>insert … on conflict do nothing returning</c>
    /// claims what is still free. Either way the claim commits or rolls back with the batch's events.
    /// </para>
    /// </summary>
    public static async Task<HashSet<string>?> Claim(OpenClaim open, List<UsageClaim> claims, CancellationToken ct)
    {
        // A meter's batch usually arrives in id order already: checked in one pass before paying for a sort.
        if (!IsSorted(claims))
        {
            claims.Sort((a, b) => string.CompareOrdinal(a.UsageId, b.UsageId));
        }

        try
        {
            await Copy(open.Take(), claims, ct);
            // Not released: the commit ends it, and a release would cost a round trip per batch.
            return null;
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            await Execute(open.Connection, RollbackToSavepoint, ct);
        }

        return await InsertFree(open.Connection, open.Table, claims, ct);
    }

    private const string Savepoint = "usage_claim";

    private const string RollbackToSavepoint = $"rollback to savepoint {Savepoint}";

    /// <summary>
    /// The Npgsql transaction of the session's open transaction, or null if it cannot be found. A savepoint made through
    /// it is not a round trip of its own: Npgsql sends it ahead of the next command, here the claim's COPY. As its own
    /// command it cost ~5% of ingest throughput in <c>bench/ingest.sh</c> (two runs each way, 83,401 and 85,861 against
    /// 87,255 and 90,424 records/s). Marten keeps the transaction inside the session's connection lifetime (the internal
    /// field <c>_connection</c>, property <c>Transaction</c>), so it is read by reflection; should another Marten name
    /// them otherwise, the savepoint goes as its own command again, slower but the same, and
    /// <c>Claiming_usage.The_claim_savepoint_rides_with_the_copy_and_undoes_a_clash</c> fails to say so.
    /// </summary>
    public static NpgsqlTransaction? OpenTransaction(IDocumentSession session)
    {
        var lifetime = LifetimeFields.GetOrAdd(session.GetType(), static type => LifetimeField(type))?.GetValue(session);
        var transaction = lifetime is null ? null
            : TransactionProperties.GetOrAdd(lifetime.GetType(), static type => type.GetProperty("Transaction", typeof(NpgsqlTransaction)))?.GetValue(lifetime) as NpgsqlTransaction;
        return transaction?.Connection == session.Connection ? transaction : null;
    }

    private static System.Reflection.FieldInfo? LifetimeField(Type sessionType)
    {
        for (var t = sessionType; t is not null; t = t.BaseType)
        {
            if (t.GetField("_connection", System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic) is { } field)
            {
                return field;
            }
        }

        return null;
    }

    /// <summary>The session's lifetime field per session type, and the transaction property per lifetime type, looked up once each.</summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<Type, System.Reflection.FieldInfo?> LifetimeFields = new();

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<Type, System.Reflection.PropertyInfo?> TransactionProperties = new();

    private static bool IsSorted(List<UsageClaim> claims)
    {
        for (var i = 1; i < claims.Count; i++)
        {
            if (string.CompareOrdinal(claims[i - 1].UsageId, claims[i].UsageId) > 0)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Binary COPY, each row written straight into a pooled buffer (<see cref="BinaryCopyRow"/>) and sent a chunk at a
    /// time. Npgsql's binary importer resolved and sized every value on its own (~3 µs of the host's CPU per claim in the
    /// ingest profile); a text COPY made PostgreSQL parse each row's timestamp and two numbers. Start is stored to the
    /// microsecond, truncated, as every earlier form stored it.
    /// </summary>
    private static async Task Copy(Task<NpgsqlRawCopyStream> opening, List<UsageClaim> claims, CancellationToken ct)
    {
        await using var stream = await opening;
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            BinaryCopyRow.Header.CopyTo(buffer);
            var used = BinaryCopyRow.Header.Length;
            foreach (var c in claims)
            {
                var r = c.Record;
                var longest = BinaryCopyRow.MaxLength(9, r.UsageId.Length + c.Fingerprint.Length + r.CommitmentId.Length + c.StreamId.Length + r.Amount.Currency.Length + r.Chip.Length);
                if (buffer.Length - used < longest)
                {
                    await stream.WriteAsync(buffer.AsMemory(0, used), ct);
                    used = 0;
                }

                used += Row(buffer.AsSpan(used), c);
            }

            BinaryCopyRow.Trailer.CopyTo(buffer.AsSpan(used));
            await stream.WriteAsync(buffer.AsMemory(0, used + BinaryCopyRow.Trailer.Length), ct);
        }
        catch (Exception e) when (e is not PostgresException)
        {
            // A fault mid-stream: the server must not take a partial stream for the whole. The fault is what the caller
            // sees (a broken connection is a 503), never the cancel's own failure.
            await Cancel(stream);
            throw;
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Cancels a COPY that must not complete. A connection that broke has ended it already (Npgsql then reports it
    /// disposed, or fails to send): nothing is left to cancel, and the transaction is gone with the connection.
    /// </summary>
    private static async Task Cancel(NpgsqlRawCopyStream stream)
    {
        try
        {
            await stream.CancelAsync();
        }
        catch (Exception e) when (e is ObjectDisposedException or NpgsqlException { IsTransient: true } or System.IO.IOException)
        {
        }
    }

    /// <summary>One claim as a binary COPY row, in the order of <see cref="Columns"/>.</summary>
    private static int Row(Span<byte> buffer, UsageClaim c)
    {
        var r = c.Record;
        var row = new BinaryCopyRow(buffer);
        row.Fields(9);
        row.Text(r.UsageId);
        row.Text(c.Fingerprint);
        row.Text(r.CommitmentId);
        row.Text(c.StreamId);
        row.Numeric(r.Amount.Amount);
        row.Text(r.Amount.Currency);
        row.Text(r.Chip);
        row.Numeric(r.ChipHours);
        row.TimestampTz(r.Start);
        return row.Length;
    }

    private static async Task<HashSet<string>> InsertFree(NpgsqlConnection connection, string table, List<UsageClaim> claims, CancellationToken ct)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            insert into {table} ({Columns})
            select * from unnest(@ids, @fingerprints, @commitments, @streams, @amounts, @currencies, @chips, @hours, @starts)
            on conflict (usage_id) do nothing
            returning usage_id
            """;
        command.Parameters.Add(new NpgsqlParameter("ids", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = claims.Select(c => c.UsageId).ToArray() });
        command.Parameters.Add(new NpgsqlParameter("fingerprints", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = claims.Select(c => c.Fingerprint).ToArray() });
        command.Parameters.Add(new NpgsqlParameter("commitments", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = claims.Select(c => c.Record.CommitmentId).ToArray() });
        command.Parameters.Add(new NpgsqlParameter("streams", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = claims.Select(c => c.StreamId).ToArray() });
        command.Parameters.Add(new NpgsqlParameter("amounts", NpgsqlDbType.Array | NpgsqlDbType.Numeric) { Value = claims.Select(c => c.Record.Amount.Amount).ToArray() });
        command.Parameters.Add(new NpgsqlParameter("currencies", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = claims.Select(c => c.Record.Amount.Currency).ToArray() });
        command.Parameters.Add(new NpgsqlParameter("chips", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = claims.Select(c => c.Record.Chip).ToArray() });
        command.Parameters.Add(new NpgsqlParameter("hours", NpgsqlDbType.Array | NpgsqlDbType.Numeric) { Value = claims.Select(c => c.Record.ChipHours).ToArray() });
        command.Parameters.Add(new NpgsqlParameter("starts", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz) { Value = claims.Select(c => c.Record.Start.ToDateTimeUtc()).ToArray() });

        var claimed = new HashSet<string>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            claimed.Add(reader.GetString(0));
        }

        return claimed;
    }

    /// <summary>The stored fingerprints of the given usage ids (those claimed before), to tell a duplicate from a clash.</summary>
    public static async Task<Dictionary<string, string>> Fingerprints(IDocumentSession session, string[] usageIds, CancellationToken ct)
    {
        var known = new Dictionary<string, string>(StringComparer.Ordinal);
        if (usageIds.Length == 0)
        {
            return known;
        }

        await using var command = Connection(session).CreateCommand();
        command.CommandText = $"select usage_id, fingerprint from {Qualified(session)} where usage_id = any(@ids)";
        command.Parameters.Add(new NpgsqlParameter("ids", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = usageIds });
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            known[reader.GetString(0)] = reader.GetString(1);
        }

        return known;
    }

    /// <summary>Locks the claim of a usage id for the rest of the transaction (corrections of one record serialize on it); the stream holding its event, or null if none was ever accepted.</summary>
    public static async Task<string?> LockStream(IDocumentSession session, string usageId, CancellationToken ct)
    {
        await using var command = Connection(session).CreateCommand();
        command.CommandText = $"select stream_id from {Qualified(session)} where usage_id = @id for update";
        command.Parameters.Add(new NpgsqlParameter("id", usageId));
        return await command.ExecuteScalarAsync(ct) as string;
    }

    /// <summary>Keeps a claim's figures those of the record's current state after a void or correction (amount 0 once voided).</summary>
    public static async Task Update(IDocumentSession session, string usageId, decimal amount, bool voided, decimal chipHours, Instant start, CancellationToken ct)
    {
        await using var command = Connection(session).CreateCommand();
        command.CommandText = $"update {Qualified(session)} set amount = @amount, voided = @voided, chip_hours = @hours, start = @start where usage_id = @id";
        command.Parameters.Add(new NpgsqlParameter("amount", amount));
        command.Parameters.Add(new NpgsqlParameter("hours", chipHours));
        command.Parameters.Add(new NpgsqlParameter("start", start.ToDateTimeOffset()));
        command.Parameters.Add(new NpgsqlParameter("voided", voided));
        command.Parameters.Add(new NpgsqlParameter("id", usageId));
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Cumulative consumption of a commitment (money, or chip-hours when <paramref name="byHours"/>) over the given chips (all when null), voids excluded.</summary>
    public static async Task<decimal> Consumed(IDocumentSession session, string commitmentId, IReadOnlyList<string>? chips, bool byHours, CancellationToken ct)
    {
        await using var command = Connection(session).CreateCommand();
        command.CommandText = $"""
            select coalesce(sum({(byHours ? "chip_hours" : "amount")}), 0)
            from {Qualified(session)}
            where commitment_id = @commitment and not voided and (@all or lower(chip) = any(@chips))
            """;
        command.Parameters.Add(new NpgsqlParameter("commitment", commitmentId));
        command.Parameters.Add(new NpgsqlParameter("all", chips is null));
        command.Parameters.Add(new NpgsqlParameter("chips", (chips ?? []).Select(c => c.ToLowerInvariant()).ToArray()));
        return (decimal)(await command.ExecuteScalarAsync(ct))!;
    }

    /// <summary>
    /// The usage record at which cumulative consumption (money, or chip-hours when <paramref name="byHours"/>), summed in
    /// valid-time order over the given chips (all when null), first reaches <paramref name="threshold"/>; null if it never does.
    /// </summary>
    public static async Task<(string UsageId, Instant Start)?> Reaching(IDocumentSession session, string commitmentId, IReadOnlyList<string>? chips,
        decimal threshold, bool byHours, Instant? startsBefore, CancellationToken ct)
    {
        await using var command = Connection(session).CreateCommand();
        command.CommandText = $"""
            select usage_id, start from (
                select usage_id, start, sum({(byHours ? "chip_hours" : "amount")}) over (order by start, usage_id) as reached
                from {Qualified(session)}
                where commitment_id = @commitment and not voided and start is not null and start < @before
                  and (@all or lower(chip) = any(@chips))
            ) cumulative
            where reached >= @threshold
            order by start, usage_id
            limit 1
            """;
        command.Parameters.Add(new NpgsqlParameter("commitment", commitmentId));
        command.Parameters.Add(new NpgsqlParameter("all", chips is null));
        command.Parameters.Add(new NpgsqlParameter("chips", (chips ?? []).Select(c => c.ToLowerInvariant()).ToArray()));
        command.Parameters.Add(new NpgsqlParameter("threshold", threshold));
        command.Parameters.Add(new NpgsqlParameter("before", (startsBefore ?? Instant.MaxValue).ToDateTimeOffset()));
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct)
            ? (reader.GetString(0), Instant.FromDateTimeOffset(reader.GetFieldValue<DateTimeOffset>(1)))
            : null;
    }

    /// <summary>
    /// Accepted totals per currency: Σ current amounts and the records not voided. Claims beyond the input limits (stored
    /// before they were enforced) are left out, as every view refuses them; summed as numeric, so they cannot overflow.
    /// </summary>
    public static async Task<Dictionary<string, (decimal Sum, long Records)>> AcceptedTotals(IQuerySession session, decimal maxAmount, decimal maxChipHours, CancellationToken ct)
    {
        await using var connection = session.DocumentStore.Storage.Database.CreateConnection();
        await connection.OpenAsync(ct);
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            select currency, coalesce(sum(amount), 0), count(*) filter (where not voided)
            from {Qualified(session)}
            where abs(amount) <= @maxAmount and (chip_hours is null or abs(chip_hours) <= @maxHours)
            group by currency
            """;
        command.Parameters.Add(new NpgsqlParameter("maxAmount", maxAmount));
        command.Parameters.Add(new NpgsqlParameter("maxHours", maxChipHours));
        var totals = new Dictionary<string, (decimal, long)>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            totals[reader.GetString(0)] = (reader.GetDecimal(1), reader.GetInt64(2));
        }

        return totals;
    }

    /// <summary>Which of the given usage ids are voided.</summary>
    public static async Task<HashSet<string>> Voided(IQuerySession session, string[] usageIds, CancellationToken ct)
    {
        var voided = new HashSet<string>(StringComparer.Ordinal);
        if (usageIds.Length == 0)
        {
            return voided;
        }

        await using var connection = session.DocumentStore.Storage.Database.CreateConnection();
        await connection.OpenAsync(ct);
        await using var command = connection.CreateCommand();
        command.CommandText = $"select usage_id from {Qualified(session)} where voided and usage_id = any(@ids)";
        command.Parameters.Add(new NpgsqlParameter("ids", usageIds));
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            voided.Add(reader.GetString(0));
        }

        return voided;
    }

    private static async Task Execute(NpgsqlConnection connection, string sql, CancellationToken ct)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(ct);
    }
}
