using Microsoft.Extensions.DependencyInjection;
using Marten;
using Marten.Events;

namespace ComputeLedger.Host.Tests.Infrastructure;

/// <summary>Base for host tests: a clean ledger before each test, HTTP clients per role.</summary>
public abstract class LedgerTest(LedgerFixture fixture) : IAsyncLifetime
{
    protected LedgerFixture Fixture { get; } = fixture;

    protected HttpClient Admin { get; } = fixture.Client("dev-admin");

    protected HttpClient Analyst { get; } = fixture.Client("dev-analyst");

    protected HttpClient Ingest { get; } = fixture.Client("dev-ingest");

    protected HttpClient Anonymous { get; } = fixture.Client(null);

    public virtual async ValueTask InitializeAsync()
    {
        Fixture.Time.Pinned = null;
        await ResetKeepingNumbering();
        await Sql("truncate ledger.usage_claims, ledger.usage_buckets, ledger.usage_lineage_slices, ledger.usage_lineage_slice_counts, "
            + "ledger.usage_day_hours, ledger.usage_day_hours_closed");
        // Messages an earlier test published, and what a consumer recorded of them, must not reach this test's consumer.
        await Sql("""
            do $$ declare t record; begin
              for t in select schemaname, tablename from pg_tables where schemaname = 'wolverine_queues'
                        or (schemaname = 'treasury' and tablename = 'received') loop
                execute format('truncate %I.%I', t.schemaname, t.tablename);
              end loop;
            end $$
            """);
    }

    /// <summary>
    /// Marten's reset (daemon paused, every document and event deleted), except that event numbering goes on from where it
    /// was instead of starting again at 1. The daemon could still hold or write a mark from before the reset (marks left
    /// above 0 were seen after it), and with the log restarting at 1 the next test's first events fell under such a mark
    /// and were never folded: a randomized reconciliation and a two-stream fold each failed so in full runs. Numbered
    /// above every old mark, no event can fall under one. The high-water mark starts where numbering goes on, so the
    /// numbers the reset left unused are not a gap the daemon waits on.
    /// The reset then waits for the resumed daemon to catch up before the test writes anything. Without that wait the
    /// first events a test wrote were still skipped now and then: repeating Storing_usage_streams_set_based 40 times
    /// failed 3 and 4 times in two runs, always with the test's first two events (Marten's own append) missing from every
    /// view and every progress mark past them; with it, 0 in 120. The daemon coming back from a pause after its progress
    /// rows were deleted is the window; a ledger outside the tests never deletes them. How Marten skips them there is
    /// not traced.
    /// </summary>
    private async Task ResetKeepingNumbering()
    {
        var coordinator = Fixture.Host.Services.GetRequiredService<Marten.Events.Daemon.Coordination.IProjectionCoordinator>();
        await coordinator.PauseAsync();
        var last = (long)(await Sql("""
            select greatest((select case when is_called then last_value else 0 end from ledger.mt_events_sequence),
                            (select coalesce(max(last_seq_id), 0) from ledger.mt_event_progression))
            """))!;
        await Fixture.Store.Advanced.ResetAllData(TestContext.Current.CancellationToken);
        if (last > 0)
        {
            await Sql($"""
                select setval('ledger.mt_events_sequence', {last});
                insert into ledger.mt_event_progression (name, last_seq_id) values ('HighWaterMark', {last})
                on conflict (name) do update set last_seq_id = excluded.last_seq_id;
                """);
        }

        await coordinator.ResumeAsync();
        await Fixture.Host.WaitForNonStaleProjectionDataAsync(TimeSpan.FromSeconds(60));
    }

    /// <summary>Raw SQL against the test database, for arranging faults and for reading what was really stored.</summary>
    protected async Task<object?> Sql(string sql)
    {
        await using var connection = new Npgsql.NpgsqlConnection(Fixture.ConnectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = new Npgsql.NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync(TestContext.Current.CancellationToken);
    }

    protected async Task<long> CountEvents(string type) =>
        (long)(await Sql($"select count(*) from ledger.mt_events where type = '{type}'"))!;

    /// <summary>Usage records stored: those carried by batch events plus any per-record events of an older ledger.</summary>
    protected async Task<long> CountRecords() => (long)(await Sql($"select count(*) from ({RecordsSql}) r"))!;

    /// <summary>
    /// Every stored usage record as a row (usage_id, stream_id, chip, region, start, amount, price): a UsageRecorded
    /// event holds many (packed in one string, compact or plain; positional arrays, or objects, as earlier releases stored them), a
    /// ChipHoursConsumed of an older ledger one.
    /// </summary>
    public const string RecordsSql = """
        select o->>'usageId' as usage_id, e.stream_id, o->>'chip' as chip, o->>'region' as region,
               case jsonb_typeof(o->'start') when 'number' then to_timestamp((o->>'start')::numeric / 10000000) else (o->>'start')::timestamptz end as start,
               (o->>'amount')::numeric as amount, (e.data->'rates'->((o->>'rate')::int)->>'price')::numeric as price
        from ledger.mt_events e
        cross join lateral (
            select case when jsonb_typeof(r) = 'array'
                then jsonb_build_object('usageId', r->0, 'chip', r->1, 'region', r->2, 'start', r->4, 'rate', r->7, 'amount', r->8) else r end
            from jsonb_array_elements(case jsonb_typeof(e.data->'records') when 'array' then e.data->'records' else '[]'::jsonb end) r
            union all
            select jsonb_build_object('usageId', f[1], 'chip', f[2], 'region', nullif(f[3], ''),
                'start', case when f[5] like '%T%' then to_jsonb(f[5]) else to_jsonb(f[5]::numeric) end, 'rate', f[8]::int, 'amount', f[9]::numeric)
            from (select string_to_array(p, ',') as f
                  from regexp_split_to_table(case when jsonb_typeof(e.data->'records') = 'string' and e.data->>'records' not like '~%'
                      then e.data->>'records' end, ';') p) packed
            union all
            select jsonb_build_object('usageId', left(h.first, f[1]::int) || f[2], 'chip', h.chips[f[3]::int + 1],
                'region', h.regions[nullif(f[4], '')::int + 1], 'start', to_jsonb((h.base + f[6]::bigint) * 10000000),
                'rate', f[9]::int, 'amount', f[10]::numeric)
            from (select string_to_array(substr(e.data->>'records', 2), '|') as p
                  where jsonb_typeof(e.data->'records') = 'string' and e.data->>'records' like '~%') compact
            cross join lateral (select string_to_array(compact.p[1], ',') as chips, string_to_array(nullif(compact.p[2], ''), ',') as regions,
                compact.p[3]::bigint as base, split_part(split_part(compact.p[4], ';', 1), ',', 2) as first) h
            cross join lateral (select string_to_array(r, ',') as f from regexp_split_to_table(compact.p[4], ';') r) records
        ) n(o)
        where e.type = 'usage_recorded'
        union all
        select data->>'usageId', stream_id, data->>'chip', data->>'region', (data->>'start')::timestamptz,
               (data->'amount'->>'amount')::numeric, (data->'pricePerChipHour'->>'amount')::numeric
        from ledger.mt_events where type = 'chip_hours_consumed'
        """;

    /// <summary>Waits until every async projection has folded every event written so far.</summary>
    protected Task CatchUp() => Fixture.Host.WaitForNonStaleProjectionDataAsync(TimeSpan.FromSeconds(60));

    public virtual ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <summary>A commitment body like the example; tranches t1 (8B) and t2 (12B, two milestones).</summary>
    public static Dictionary<string, object?> Deal(string id = "amazon-anthropic", string status = "Signed") => new()
    {
        ["commitmentId"] = id,
        ["investor"] = "Amazon",
        ["partner"] = "Anthropic",
        ["provider"] = "AWS",
        ["status"] = status,
        ["signedOn"] = status == "Signed" ? "2024-03-27" : null,
        ["structure"] = "$5B upfront + $20B milestones",
        ["headline"] = Usd(25_000_000_000m),
        ["upfront"] = Usd(5_000_000_000m),
        ["milestones"] = new object[]
        {
            new { milestoneId = "trillion-param-model", description = "1T+ parameter model", kind = "attested" },
            new { milestoneId = "aws-throughput-target", description = "Throughput on AWS", kind = "attested" },
            new { milestoneId = "inference-at-scale", description = "Inference at scale", kind = "attested" },
        },
        ["tranches"] = new object[]
        {
            new { trancheId = "t1", amount = Usd(8_000_000_000m), milestones = new[] { "trillion-param-model" } },
            new { trancheId = "t2", amount = Usd(12_000_000_000m), milestones = new[] { "aws-throughput-target", "inference-at-scale" } },
        },
        ["computeCommitment"] = new
        {
            provider = "AWS",
            chips = new[] { "Trainium2" },
            committedSpend = Usd(25_000_000_000m),
            termStart = "2024-03-27",
            termEnd = "2029-03-27",
        },
    };

    public static object Usd(decimal amount) => new { amount, currency = "USD" };

    protected async Task<Http.Reply> Create(Dictionary<string, object?> deal)
    {
        var reply = await Admin.PostJson("/api/commitments", deal);
        Shouldly.ShouldBeTestExtensions.ShouldBe(reply.Code, 201, reply.ToString());
        return reply;
    }
}
