using ComputeLedger.Host.Tests.Infrastructure;
using ComputeLedger.Host.Usage.Reading;
using ComputeLedger.Projections.Usage;
using JasperFx.Events.Projections;
using Marten;
using NodaTime;
using Shouldly;

namespace ComputeLedger.Host.Tests.Lineage;

/// <summary>
/// Progress marks read the projection's progress as Marten keeps it. The lineage reader takes its mark with its own
/// statement, inside the snapshot it reads the rows in (Marten's API would read it on another connection, outside that
/// snapshot); it must give the figure Marten's API gives. The lag figures must be those of the event log itself.
/// </summary>
public class Progress_marks_are_Martens(LedgerFixture fixture) : LineageTest(fixture)
{
    [Fact]
    public async Task The_lineage_mark_and_the_lag_figures_are_the_ones_Marten_and_the_event_log_give()
    {
        var ct = TestContext.Current.CancellationToken;
        await At("2025-07-05T10:00:00Z", () => Post(Record("a", 2m)));
        await At("2025-07-06T10:00:00Z", () => Post(Record("b", 3m)));
        await CatchUp();

        var store = Fixture.Host.DocumentStore();
        var lineage = await store.Advanced.ProjectionProgressFor(new ShardName(UsageLineageSlices.ProjectionName), token: ct);
        lineage.ShouldBeGreaterThan(0);
        await using var session = store.QuerySession();
        await using (var reader = await LineageReader.Open(session, ct))
        {
            reader.Mark.ShouldBe(lineage);
        }

        var newest = (long)(await Sql("select max(seq_id) from ledger.mt_events"))!;
        var spend = (long)(await Sql("select last_seq_id from ledger.mt_event_progression where name = 'ChipSpend:All'"))!;
        var lag = await ProjectionLag.Of(session, "ChipSpend", SystemClock.Instance.GetCurrentInstant(), null, ct);
        lag.ShouldBe(new ProjectionLag("ChipSpend", spend, newest, 0));
        spend.ShouldBe(newest);

        // Behind: a projection that has folded nothing is as old as the first event of the log.
        var first = await Sql("select timestamp from ledger.mt_events order by seq_id limit 1") switch
        {
            DateTimeOffset at => Instant.FromDateTimeOffset(at),
            DateTime at => Instant.FromDateTimeUtc(DateTime.SpecifyKind(at, DateTimeKind.Utc)),
            var other => throw new InvalidOperationException($"unexpected timestamp {other}"),
        };
        var unfolded = await ProjectionLag.Of(session, "NotAProjection", first.Plus(Duration.FromSeconds(30)), null, ct);
        unfolded.ShouldBe(new ProjectionLag("NotAProjection", 0, newest, 30));
    }
}
