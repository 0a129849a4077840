using ComputeLedger.Projections.Usage;
using Marten;
using Marten.Schema;
using Npgsql;

namespace ComputeLedger.Host.Usage;

/// <summary>
/// Two storage settings of the usage tables that Weasel's table definitions cannot express, applied at start-up to new
/// and existing ledgers alike (each only where it is missing, so a restart changes nothing):
/// <list type="bullet">
/// <item>Their text keys compare byte by byte (collation "C"). Under the cluster's usual <c>C.UTF-8</c>, every B-tree
/// comparison of a claim's usageId or a count row's key went through <c>strcoll</c>; in bench/ingest.sh that was a large
/// part of the claim COPY's PostgreSQL CPU. Equality is byte equality under both; <c>C.UTF-8</c> orders by code point,
/// which is UTF-8's byte order, so on such a cluster every order is the same as before too, and on any cluster it is the
/// ordinal order the host sorts claims in. An existing table's key index is rebuilt
/// once, under a lock, the first time a new release starts.</item>
/// <item>The two tables the daemon adds to on every page (buckets, lineage counts) leave half of each page free
/// (fillfactor 50), so an upsert updates its row in place (a HOT update) instead of adding an index entry.</item>
/// </list>
/// </summary>
public sealed class UsageKeyTuning : IInitialData
{
    private static readonly (string Table, string[] Columns)[] CollatedKeys =
    [
        (UsageClaims.TableName, ["usage_id"]),
        (UsageBucketRows.TableName, ["id"]),
        (UsageLineageSlices.CountsTableName, ["figure", "provider", "chip", "grain", "currency"]),
    ];

    private static readonly string[] HotTables = [UsageBucketRows.TableName, UsageLineageSlices.CountsTableName];

    public async Task Populate(IDocumentStore store, CancellationToken cancellation)
    {
        var schema = store.Options.DatabaseSchemaName;
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(cancellation);

        var statements = new List<string>();
        foreach (var (table, columns) in CollatedKeys)
        {
            var uncollated = await Uncollated(connection, schema, table, columns, cancellation);
            if (uncollated.Count > 0)
            {
                statements.Add($"alter table {schema}.{table} {string.Join(", ", uncollated.Select(c => $"alter column {c} type text collate \"C\""))}");
            }
        }

        foreach (var table in HotTables)
        {
            await using var check = new NpgsqlCommand(
                "select coalesce('fillfactor=50' = any(c.reloptions), false) from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = @schema and c.relname = @table",
                connection);
            check.Parameters.AddWithValue("schema", schema);
            check.Parameters.AddWithValue("table", table);
            if (await check.ExecuteScalarAsync(cancellation) is false)
            {
                statements.Add($"alter table {schema}.{table} set (fillfactor = 50)");
            }
        }

        foreach (var sql in statements)
        {
            await using var command = new NpgsqlCommand(sql, connection);
            await command.ExecuteNonQueryAsync(cancellation);
        }
    }

    private static async Task<List<string>> Uncollated(NpgsqlConnection connection, string schema, string table, string[] columns, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("""
            select a.attname from pg_attribute a
            join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
            join pg_collation l on l.oid = a.attcollation
            where n.nspname = @schema and c.relname = @table and a.attname = any(@columns) and not a.attisdropped and l.collname <> 'C'
            order by a.attnum
            """, connection);
        command.Parameters.AddWithValue("schema", schema);
        command.Parameters.AddWithValue("table", table);
        command.Parameters.AddWithValue("columns", columns);
        var names = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            names.Add(reader.GetString(0));
        }

        return names;
    }
}
