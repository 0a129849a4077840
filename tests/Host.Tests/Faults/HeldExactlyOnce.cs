using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using ComputeLedger.Host.Tests.Infrastructure;
using Npgsql;
using Shouldly;

namespace ComputeLedger.Host.Tests.Faults;

/// <summary>
/// What a fault must never change, checked after every batch was acknowledged: each record the client sent is stored
/// once (one claim, one event), and every figure the ledger gives about it — the views, reconciliation, the time-travel
/// buckets — equals the sum of the records, computed here from what was sent, not from anything the ledger wrote.
/// </summary>
public static class HeldExactlyOnce
{
    public static async Task Check(RetryingIngestion ingestion, HttpClient analyst, string connectionString, CancellationToken ct)
    {
        var sent = ingestion.Records.ToList();
        var ids = sent.Select(r => r.UsageId).ToArray();
        var total = sent.Sum(r => r.Amount);

        // Every batch acknowledged, and each one whole: all new, or all duplicates (an earlier attempt committed and its
        // answer was lost). Which batches were which depends on where the fault fell; the storage counts below do not.
        ingestion.Unexpected.ShouldBeEmpty();
        var acks = ingestion.Acknowledgements;
        acks.Count.ShouldBe(ingestion.Batches.Count);
        acks.Where(a => !(a.Accepted == ingestion.Batches[a.Batch].Count && a.Duplicates == 0)
                        && !(a.Accepted == 0 && a.Duplicates == ingestion.Batches[a.Batch].Count))
            .ShouldBeEmpty("a batch was stored in part");
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"{acks.Count(a => a.Attempts > 1)} of {acks.Count} batches needed a retry; {acks.Count(a => a.Duplicates > 0)} of them had " +
            $"been stored by an unanswered attempt; {ingestion.ServiceUnavailable} answers were 503, {ingestion.ConnectionErrors} attempts got no answer");

        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(ct);
        await WaitForDaemon(connection, TimeSpan.FromSeconds(90), ct);

        var claims = await Row(connection, "select count(*), count(*) filter (where usage_id = any(@ids)), sum(amount) from ledger.usage_claims", ids, ct);
        ((long)claims[0], (long)claims[1], (decimal)claims[2]).ShouldBe((sent.Count, sent.Count, total), "usage_claims: rows, rows of sent ids, Σ amount");
        var events = await Row(connection, $"""
            select count(*), count(distinct usage_id), count(*) filter (where usage_id = any(@ids)) from ({LedgerTest.RecordsSql}) r
            """, ids, ct);
        ((long)events[0], (long)events[1], (long)events[2]).ShouldBe((sent.Count, sent.Count, sent.Count), "usage records in events: all, distinct ids, of sent ids");

        // The buckets themselves, at every grain (a time-travel read adds the unfolded tail, so it alone could hide a gap).
        var buckets = await Rows(connection, "select grain, sum(amount), sum(records) from ledger.usage_buckets group by grain order by grain", ct);
        buckets.Select(b => $"{b[0]} {(decimal)b[1]:0.00} {b[2]}")
            .ShouldBe(new[] { "dd", "dm", "md", "mm" }.Select(g => $"{g} {total:0.00} {sent.Count}"));

        var expectedByMonthAndChip = ByMonthAndChip(sent);
        var spend = await Get(analyst, "/api/spend/chips?from=2025-01&to=2025-12", ct);
        SpendRows(spend).ShouldBe(expectedByMonthAndChip, "live chip spend");
        var lag = spend["lag"]!;
        lag["lastProcessedSequence"]!.GetValue<long>().ShouldBe(lag["highWaterMark"]!.GetValue<long>());

        var revenue = await Get(analyst, "/api/revenue/providers?from=2025-07&to=2025-09", ct);
        revenue["rows"]!.AsArray().Sum(r => r!["revenue"].Amount()).ShouldBe(total);
        revenue["rows"]!.AsArray().Sum(r => r!["records"]!.GetValue<long>()).ShouldBe(sent.Count);

        var drawdown = await Get(analyst, "/api/commitments/amazon-anthropic/drawdown", ct);
        drawdown["consumed"].Amount().ShouldBe(total);
        drawdown["records"]!.GetValue<long>().ShouldBe(sent.Count);

        var reconciliation = await Get(analyst, "/api/reconciliation", ct);
        reconciliation["balanced"]!.GetValue<bool>().ShouldBeTrue(reconciliation.ToJsonString());
        Usd(reconciliation).ShouldBe((total, sent.Count), "reconciliation: accepted usage and records");

        // Time travel on whole days reads the buckets: everything by the end of 2025 as known today, then July alone.
        var today = DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var asKnownToday = await Get(analyst, $"/api/spend/chips?from=2025-01&to=2025-12&asOf=2025-12-31&knownAt={today}", ct);
        SpendRows(asKnownToday).ShouldBe(expectedByMonthAndChip, "time-travel chip spend");
        var july = await Get(analyst, $"/api/spend/chips?from=2025-01&to=2025-12&asOf=2025-07-31&knownAt={today}", ct);
        SpendRows(july).ShouldBe(ByMonthAndChip(sent.Where(r => r.Month == "2025-07")), "time-travel chip spend as of July");
        var reconciledAsOf = await Get(analyst, $"/api/reconciliation?asOf=2025-12-31&knownAt={today}", ct);
        reconciledAsOf["balanced"]!.GetValue<bool>().ShouldBeTrue(reconciledAsOf.ToJsonString());
        Usd(reconciledAsOf).ShouldBe((total, sent.Count), "time-travel reconciliation: accepted usage and records");
    }

    /// <summary>
    /// Until every async projection shard has folded the last event written, polling its progress row; a shard that
    /// stopped after the fault never gets there and fails the wait, naming where each shard is.
    /// </summary>
    public static async Task WaitForDaemon(NpgsqlConnection connection, TimeSpan timeout, CancellationToken ct)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            var progress = await Row(connection, """
                select (select coalesce(max(seq_id), 0) from ledger.mt_events),
                       (select min(last_seq_id) from ledger.mt_event_progression where name like '%:All'),
                       (select string_agg(name || '=' || last_seq_id, ', ' order by name) from ledger.mt_event_progression)
                """, [], ct);
            var (high, lowest) = ((long)progress[0], progress[1] as long?);
            var shards = progress[2] as string ?? "(no progress rows)";
            if (lowest >= high && shards.Contains("UsageBucketRows:All", StringComparison.Ordinal))
            {
                return;
            }

            if (waited.Elapsed > timeout)
            {
                throw new TimeoutException($"the projection daemon did not fold up to sequence {high} within {timeout.TotalSeconds} s: {shards}");
            }

            await Task.Delay(100, ct);
        }
    }

    private static string[] ByMonthAndChip(IEnumerable<SentRecord> records) =>
    [
        .. records.GroupBy(r => (r.Month, r.Chip)).OrderBy(g => g.Key.Month, StringComparer.Ordinal).ThenBy(g => g.Key.Chip, StringComparer.Ordinal)
            .Select(g => Line(g.Key.Month, g.Key.Chip, g.Sum(r => r.ChipHours), g.Sum(r => r.Amount), g.Sum(r => r.Tokens), g.Count())),
    ];

    private static string[] SpendRows(JsonNode spend) =>
    [
        .. spend["rows"]!.AsArray().Select(r => Line(r!["month"]!.GetValue<string>(), r["chip"]!.GetValue<string>(),
            r["chipHours"]!.GetValue<decimal>(), r["spend"].Amount(), r["tokens"]!.GetValue<long>(), r["records"]!.GetValue<long>())),
    ];

    private static string Line(string month, string chip, decimal chipHours, decimal spend, long tokens, long records) =>
        string.Create(CultureInfo.InvariantCulture, $"{month} {chip}: {chipHours:0.######} h, {spend:0.00} USD, {tokens} tokens, {records} records");

    private static (decimal, long) Usd(JsonNode reconciliation)
    {
        var usd = reconciliation["currencies"]!.AsArray().Single(c => c!["currency"]!.GetValue<string>() == "USD")!;
        usd["chipSpend"]!.GetValue<decimal>().ShouldBe(usd["acceptedUsage"]!.GetValue<decimal>());
        return (usd["acceptedUsage"]!.GetValue<decimal>(), usd["acceptedRecords"]!.GetValue<long>());
    }

    private static async Task<JsonNode> Get(HttpClient client, string url, CancellationToken ct)
    {
        using var response = await client.GetAsync(new Uri(url, UriKind.Relative), ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        ((int)response.StatusCode).ShouldBe(200, $"GET {url}: {text}");
        return JsonNode.Parse(text)!;
    }

    private static async Task<object[]> Row(NpgsqlConnection connection, string sql, string[] ids, CancellationToken ct) =>
        (await Rows(connection, sql, ct, ids.Length > 0 ? ids : null)).Single();

    private static async Task<List<object[]>> Rows(NpgsqlConnection connection, string sql, CancellationToken ct, string[]? ids = null)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        if (ids is not null)
        {
            command.Parameters.AddWithValue("ids", ids);
        }

        var rows = new List<object[]>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var row = new object[reader.FieldCount];
            reader.GetValues(row);
            rows.Add(row);
        }

        return rows;
    }
}
