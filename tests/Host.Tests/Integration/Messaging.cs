using Npgsql;

namespace ComputeLedger.Host.Tests.Integration;

/// <summary>
/// Waits on the message stores instead of the clock: a database is settled when the ledger's outbox is empty, the
/// PostgreSQL queues are empty, and neither the ledger (webhook fan-out, deliveries, scheduled retries) nor the treasury
/// consumer has an envelope left unhandled. Once settled, a duplicate or an extra delivery would already have shown.
/// Without a consumer running (consumer: false) nobody empties the queues, so they are not counted.
/// </summary>
public static class Messaging
{
    public static async Task Settle(string connectionString, bool consumer = true, int seconds = 30)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();

        var counts = new List<string>
        {
            "select count(*) from ledger.wolverine_outgoing_envelopes",
            "select count(*) from ledger.wolverine_incoming_envelopes where status <> 'Handled'",
        };
        await using (var tables = new NpgsqlCommand(!consumer ? "select null::text where false" : """
            select format('select count(*) from %I.%I', schemaname, tablename) from pg_tables where schemaname = 'wolverine_queues'
            union all
            select 'select count(*) from treasury.wolverine_incoming_envelopes where status <> ''Handled''' where to_regclass('treasury.wolverine_incoming_envelopes') is not null
            """, connection))
        await using (var reader = await tables.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                counts.Add(reader.GetString(0));
            }
        }

        var inFlightSql = "select " + string.Join(" + ", counts.Select(c => $"({c})"));
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        // Two quiet polls in a row: a message moving from one store to the next is never counted as gone.
        for (var quiet = 0; quiet < 2;)
        {
            await using var command = new NpgsqlCommand(inFlightSql, connection);
            var inFlight = (long)(await command.ExecuteScalarAsync())!;
            quiet = inFlight == 0 ? quiet + 1 : 0;
            if (inFlight > 0 && DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{inFlight} message(s) still in flight after {seconds}s.");
            }

            await Task.Delay(150);
        }
    }
}
