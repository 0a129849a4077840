using ComputeLedger.Host.Tests.Infrastructure;
using ComputeLedger.Host.Usage.Ingesting;
using ComputeLedger.Ledger;
using ComputeLedger.Ledger.Usage;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Shouldly;

namespace ComputeLedger.Host.Tests.Usage;

/// <summary>
/// Ingest writes its usage streams with its own set-based insert instead of Marten's append function. Marten must not be
/// able to tell the difference: same columns and values in mt_streams and mt_events, and the same events read back.
/// A Marten upgrade that changes how it stores events fails here, not in production.
/// </summary>
public class Storing_usage_streams_set_based(LedgerFixture fixture) : LedgerTest(fixture)
{
    private static readonly Instant Now = Instant.FromUtc(2026, 1, 15, 9, 30);

    private static ChipHoursConsumed Consumed(string usageId, decimal hours) => new(usageId, "amazon-anthropic", "AWS", "Trainium2", "us-east-1",
        hours, Instant.FromUtc(2025, 7, 1, 0, 0), Instant.FromUtc(2025, 7, 1, 1, 0), 1_000_000, new Money(3.5m, "USD"),
        new Money(3.5m * hours, "USD"), "provider card AWS from 2025-01-01", Now);

    [Fact]
    public async Task Writes_the_rows_Marten_writes_and_Marten_reads_them_back_as_its_own()
    {
        Fixture.Time.Pinned = Now.ToDateTimeOffset();
        var events = new[] { Consumed("u-1", 2m), Consumed("u-2", 3m) };

        await using (var session = Fixture.Store.LightweightSession())
        {
            session.Events.StartStream("usage:by-marten", events.Cast<object>().ToArray());
            await session.SaveChangesAsync(TestContext.Current.CancellationToken);
        }

        await using (var session = Fixture.Store.LightweightSession())
        {
            UsageStreams.Start(session, [("usage:set-based", events)], Now);
            await session.SaveChangesAsync(TestContext.Current.CancellationToken);
        }

        // Every column but the ones that identify the row or the moment it was written.
        (await Rows("mt_events", "id, seq_id, stream_id")).ShouldBe(await Rows("mt_events", "id, seq_id, stream_id", "usage:by-marten"));
        (await Rows("mt_streams", "id, timestamp, created")).ShouldBe(await Rows("mt_streams", "id, timestamp, created", "usage:by-marten"));
        (await Sql("select count(*) from ledger.mt_events where stream_id = 'usage:set-based'")).ShouldBe(2L);
        (await Sql("select bool_and(seq_id > (select max(seq_id) from ledger.mt_events where stream_id = 'usage:by-marten')) from ledger.mt_events where stream_id = 'usage:set-based'"))
            .ShouldBe(true);

        await using var query = Fixture.Store.QuerySession();
        var marten = await query.Events.FetchStreamAsync("usage:by-marten", token: TestContext.Current.CancellationToken);
        var ours = await query.Events.FetchStreamAsync("usage:set-based", token: TestContext.Current.CancellationToken);
        ours.Select(e => e.Data).ShouldBe(marten.Select(e => e.Data));
        ours.Select(e => (e.Version, e.Timestamp, e.EventTypeName, e.DotNetTypeName, e.TenantId, e.IsArchived))
            .ShouldBe(marten.Select(e => (e.Version, e.Timestamp, e.EventTypeName, e.DotNetTypeName, e.TenantId, e.IsArchived)));
        ours.Select(e => e.Sequence).ShouldBeInOrder(SortDirection.Ascending);
        ours.Select(e => e.Id).Distinct().Count().ShouldBe(2);

        // The async projections fold them like any other event: both streams count in the month's chip spend. The catch-up
        // waits for the projections to reach the high-water mark the daemon has seen, which (seen failing once in a full CI
        // run) can still predate the rows written here a moment ago; so the daemon is first awaited until it has seen them.
        var last = (long)(await Sql("select max(seq_id) from ledger.mt_events where stream_id = 'usage:set-based'"))!;
        var daemon = Fixture.Host.Services.GetRequiredService<Marten.Events.Daemon.Coordination.IProjectionCoordinator>().DaemonForMainDatabase();
        await daemon.Tracker.WaitForHighWaterMark(last, TimeSpan.FromSeconds(60));
        await CatchUp();
        // What the daemon saw, should it ever fold fewer: its marks, the log, and what it set aside.
        var seen = $"progress {await Sql("select string_agg(name || '=' || last_seq_id, ', ' order by name) from ledger.mt_event_progression")}; "
            + $"events {await Sql("select string_agg(seq_id || ':' || stream_id, ', ' order by seq_id) from ledger.mt_events")}; "
            + $"dead letters {await query.Query<JasperFx.Events.Daemon.DeadLetterEvent>().CountAsync(TestContext.Current.CancellationToken)}; "
            + $"events in the lineage slices {await Sql("select string_agg(distinct seq::text, ',') from ledger.usage_lineage_slices")}";
        (await Sql("select sum(records) from ledger.usage_buckets where grain = 'mm'")).ShouldBe(4L, seen);
    }

    [Fact]
    public async Task A_usage_stream_that_already_exists_is_refused_and_nothing_is_written()
    {
        await using (var session = Fixture.Store.LightweightSession())
        {
            UsageStreams.Start(session, [("usage:taken", [Consumed("u-1", 2m)])], Now);
            await session.SaveChangesAsync(TestContext.Current.CancellationToken);
        }

        await using (var session = Fixture.Store.LightweightSession())
        {
            UsageStreams.Start(session, [("usage:fresh", [Consumed("u-2", 2m)]), ("usage:taken", [Consumed("u-3", 2m)])], Now);
            await Should.ThrowAsync<Exception>(() => session.SaveChangesAsync(TestContext.Current.CancellationToken));
        }

        (await Sql("select string_agg(data->>'usageId', ',') from ledger.mt_events where type = 'chip_hours_consumed'")).ShouldBe("u-1");
        (await Sql("select count(*) from ledger.mt_streams where id like 'usage:%'")).ShouldBe(1L);
    }

    /// <summary>The stream's rows as text, without the columns that may differ between two writes of the same events.</summary>
    private async Task<string> Rows(string table, string except, string stream = "usage:set-based")
    {
        var keyColumn = table == "mt_streams" ? "id" : "stream_id";
        var text = await Sql($"""
            select string_agg(row_text, E'\n' order by ord) from (
              select (to_jsonb(t) - string_to_array('{except.Replace(" ", "")}', ','))::text as row_text,
                     row_number() over (order by {(table == "mt_streams" ? "id" : "version")}) as ord
              from ledger.{table} t where {keyColumn} = '{stream}') rows
            """);
        return (string)text!;
    }
}
