using System.Text.Json;
using System.Text.Json.Nodes;
using ComputeLedger.Host.Infrastructure;
using ComputeLedger.Host.Tests.Infrastructure;
using ComputeLedger.Ledger.Usage;
using Marten;
using NodaTime;
using Shouldly;

namespace ComputeLedger.Host.Tests.Usage;

/// <summary>
/// The records of a stored UsageRecorded are packed in one string (PostgreSQL parses one jsonb string, not a node per
/// field; compact when its instants are whole seconds), they read back exactly, and batch events stored by earlier releases, with their records as positional arrays
/// or as objects, still read the same.
/// </summary>
public class Storing_batch_records_compactly(LedgerFixture fixture) : UsageTest(fixture)
{
    private async Task<(string Id, UsageRecorded Event)> StoredBatch()
    {
        await using var session = Fixture.Store.QuerySession();
        var e = (await session.Events.QueryAllRawEvents().Where(x => x.EventTypeName == "usage_recorded").ToListAsync(TestContext.Current.CancellationToken)).ShouldHaveSingleItem();
        return (e.Id.ToString(), (UsageRecorded)e.Data);
    }

    [Fact]
    public async Task Records_are_stored_as_arrays_and_read_back_exactly()
    {
        (await Post(Record("c-1", 2.5m, start: "2025-07-01T00:00:00Z", end: "2025-07-01T01:00:00Z"),
            Record("c-2", 0.125m, chip: "Inferentia2", region: null, start: "2025-07-01T00:00:00.123456789Z", end: "2025-07-01T01:00:00.5Z", tokens: 9_000_000_000L)))
            .Json["accepted"]!.GetValue<int>().ShouldBe(2);
        var (id, stored) = await StoredBatch();

        var data = JsonNode.Parse((string)(await Sql($"select data::text from ledger.mt_events where id = '{id}'"))!)!;
        var (hour, next) = (Instant.FromUtc(2025, 7, 1, 0, 0).ToUnixTimeTicks(), Instant.FromUtc(2025, 7, 1, 1, 0).ToUnixTimeTicks());
        // Finer than 100 ns is kept exactly, as an ISO string; an absent region or tokens is an empty field.
        data["records"]!.GetValue<string>().ShouldBe(
            $"c-1,Trainium2,us-east-1,2.5,{hour},{next},,0,8.75;c-2,Inferentia2,,0.125,2025-07-01T00:00:00.123456789Z,{next + 5_000_000},9000000000,1,0.16");

        stored.Records.ShouldBe([
            new RecordedUsage("c-1", "Trainium2", "us-east-1", 2.5m, Instant.FromUtc(2025, 7, 1, 0, 0), Instant.FromUtc(2025, 7, 1, 1, 0), null, 0, 8.75m),
            new RecordedUsage("c-2", "Inferentia2", null, 0.125m, Instant.FromUtc(2025, 7, 1, 0, 0).PlusNanoseconds(123_456_789),
                Instant.FromUtc(2025, 7, 1, 1, 0).PlusNanoseconds(500_000_000), 9_000_000_000L, 1, 0.16m),
        ]);
    }

    [Fact]
    public async Task Whole_second_records_are_stored_in_the_compact_layout_and_read_back_exactly()
    {
        (await Post(Record("w-1", 2.5m, start: "2025-07-01T00:00:00Z", end: "2025-07-01T01:00:00Z"),
            Record("w-2", 0.125m, chip: "Inferentia2", region: null, start: "2025-07-01T02:00:00Z", end: "2025-07-01T02:30:00Z", tokens: 9_000_000_000L)))
            .Json["accepted"]!.GetValue<int>().ShouldBe(2);
        var (id, stored) = await StoredBatch();

        var data = JsonNode.Parse((string)(await Sql($"select data::text from ledger.mt_events where id = '{id}'"))!)!;
        // Chips and regions listed once; the first start in seconds (2025-07-01T00:00Z); w-2 shares "w-" with the first id,
        // starts 7,200 s after it and lasts 1,800 s.
        data["records"]!.GetValue<string>().ShouldBe("~Trainium2,Inferentia2|us-east-1|1751328000|0,w-1,0,0,2.5,0,3600,,0,8.75;2,2,1,,0.125,7200,1800,9000000000,1,0.16");

        stored.Records.ShouldBe([
            new RecordedUsage("w-1", "Trainium2", "us-east-1", 2.5m, Instant.FromUtc(2025, 7, 1, 0, 0), Instant.FromUtc(2025, 7, 1, 1, 0), null, 0, 8.75m),
            new RecordedUsage("w-2", "Inferentia2", null, 0.125m, Instant.FromUtc(2025, 7, 1, 2, 0), Instant.FromUtc(2025, 7, 1, 2, 30), 9_000_000_000L, 1, 0.16m),
        ]);
        (await Sql($"select string_agg(usage_id || ' ' || chip || ' ' || coalesce(region, '-') || ' ' || start || ' ' || amount, ', ' order by usage_id) from ({RecordsSql}) r"))
            .ShouldBe("w-1 Trainium2 us-east-1 2025-07-01 00:00:00+00 8.75, w-2 Inferentia2 - 2025-07-01 02:00:00+00 0.16");
    }

    [Fact]
    public async Task A_batch_stored_with_records_as_objects_reads_the_same()
    {
        (await Post(Record("o-1", 2m), Record("o-2", 1m, chip: "Inferentia2", region: null, tokens: 42))).Json["accepted"]!.GetValue<int>().ShouldBe(2);
        var (id, stored) = await StoredBatch();

        // What the release before wrote: the store's JSON dialect without the compact layout, so each record an object.
        var objects = JsonSerializer.Serialize(stored, Json.Options);
        JsonNode.Parse(objects)!["records"]![0].ShouldBeOfType<JsonObject>();
        await Sql($"update ledger.mt_events set data = '{objects.Replace("'", "''", StringComparison.Ordinal)}'::jsonb where id = '{id}'");

        var (_, reread) = await StoredBatch();
        reread.Records.ShouldBe(stored.Records);
        reread.Rates.ShouldBe(stored.Rates);
        (reread with { Records = stored.Records, Rates = stored.Rates }).ShouldBe(stored);
    }

    private static readonly JsonSerializerOptions ArrayLayout = new(Json.Options) { Converters = { new ComputeLedger.Host.Usage.RecordedUsageJson() } };

    [Fact]
    public async Task A_batch_stored_with_records_as_arrays_reads_the_same()
    {
        (await Post(Record("a-1", 2m), Record("a-2", 1m, chip: "Inferentia2", region: null, tokens: 42,
            start: "2025-07-01T00:00:00.5Z", end: "2025-07-01T01:00:00Z"))).Json["accepted"]!.GetValue<int>().ShouldBe(2);
        var (id, stored) = await StoredBatch();

        // What the release before wrote: each record a positional array.
        var arrays = JsonSerializer.Serialize(stored, ArrayLayout);
        JsonNode.Parse(arrays)!["records"]![0].ShouldBeOfType<JsonArray>();
        await Sql($"update ledger.mt_events set data = '{arrays.Replace("'", "''", StringComparison.Ordinal)}'::jsonb where id = '{id}'");

        var (_, reread) = await StoredBatch();
        reread.Records.ShouldBe(stored.Records);
        (reread with { Records = stored.Records, Rates = stored.Rates }).ShouldBe(stored);
    }

    [Fact]
    public async Task Each_claim_holds_its_records_figures_with_start_to_the_microsecond()
    {
        (await Post(Record("k-1", 2.5m, start: "2025-07-01T00:00:00.123456789Z", end: "2025-07-01T01:00:00Z"), Record("k-2", 0.125m, chip: "Inferentia2", region: null)))
            .Json["accepted"]!.GetValue<int>().ShouldBe(2);
        var (id, _) = await StoredBatch();
        var stream = (string)(await Sql($"select stream_id from ledger.mt_events where id = '{id}'"))!;

        var claims = (string)(await Sql("""
            select string_agg(concat_ws('|', usage_id, length(fingerprint), commitment_id, stream_id, amount, currency, chip, chip_hours,
                to_char(start at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'), voided), ';' order by usage_id) from ledger.usage_claims
            """))!;

        claims.ShouldBe($"k-1|64|amazon-anthropic|{stream}|8.75|USD|Trainium2|2.5|2025-07-01T00:00:00.123456|f;" +
                        $"k-2|64|amazon-anthropic|{stream}|0.16|USD|Inferentia2|0.125|2025-07-01T00:00:00.000000|f");
    }
}
