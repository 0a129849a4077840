using ComputeLedger.Contracts;
using ComputeLedger.Host.Integration;
using ComputeLedger.Host.Tests.Infrastructure;
using ComputeLedger.Host.Tests.Usage;
using ComputeLedger.Host.Usage.Ingesting;
using ComputeLedger.Host.Commitments.TrackingConsumption;
using ComputeLedger.Ledger.Commitments;
using Marten;
using Shouldly;
using Wolverine;

namespace ComputeLedger.Host.Tests.Integration;

public class Integration_events(LedgerFixture fixture) : LedgerTest(fixture)
{
    private Treasury _treasury = null!;

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        _treasury = await Treasury.Start(Fixture.ConnectionString);
    }

    public override async ValueTask DisposeAsync()
    {
        await _treasury.DisposeAsync();
        await base.DisposeAsync();
    }

    private Task<Http.Reply> Achieve(string id, string milestone, string on = "2025-05-01") =>
        Admin.PostJson($"/api/commitments/{id}/milestones/{milestone}/achieve", new { achievedOn = on, evidence = "board minutes" });

    [Fact]
    public async Task Each_ledger_fact_reaches_the_queue_consumer_once_with_an_id_derived_from_its_ledger_event()
    {
        await Create(Deal("q-deal"));
        (await Achieve("q-deal", "trillion-param-model")).Code.ShouldBe(200);
        (await Admin.PostJson("/api/commitments/q-deal/tranches/t1/release", new { releasedOn = "2025-06-01" })).Code.ShouldBe(200);

        var rows = await _treasury.WaitFor("q-deal", r => r.Count >= 4);
        await Messaging.Settle(Fixture.ConnectionString);
        rows = await _treasury.Received("q-deal");

        rows.Select(r => r.Type).Order().ShouldBe(["CommitmentSigned", "MilestoneAchieved", "TrancheBecameEligible", "TrancheReleased"]);
        // Stream versions: offered 1, signed 2, achieved 3, released 4.
        rows.Single(r => r.Type == "TrancheBecameEligible").Id.ShouldBe(IntegrationEvents.StableId("q-deal", 3, "eligible:t1"));
        rows.Single(r => r.Type == "TrancheReleased").Id.ShouldBe(IntegrationEvents.StableId("q-deal", 4, "released:t1"));
    }

    [Fact]
    public async Task A_write_that_fails_publishes_nothing_and_its_retry_publishes_once()
    {
        await Create(Deal("atomic"));
        await Sql("""
            create or replace function ledger.fail_achievement() returns trigger language plpgsql as $$
            begin raise exception using errcode = 'serialization_failure', message = 'injected failure'; end $$;
            create trigger fail_achievement before insert on ledger.mt_events for each row
                when (new.type = 'milestone_achieved') execute function ledger.fail_achievement();
            """);
        try
        {
            (await Achieve("atomic", "trillion-param-model")).Code.ShouldBe(503);
        }
        finally
        {
            await Sql("drop trigger fail_achievement on ledger.mt_events; drop function ledger.fail_achievement();");
        }

        (await Sql("select count(*) from ledger.wolverine_outgoing_envelopes where message_type like '%TrancheBecameEligible'")).ShouldBe(0L);
        (await Achieve("atomic", "trillion-param-model")).Code.ShouldBe(200);

        await _treasury.WaitFor("atomic", r => r.Any(x => x.Type == "TrancheBecameEligible"));
        await Messaging.Settle(Fixture.ConnectionString);
        var rows = await _treasury.Received("atomic");
        rows.Count(r => r.Type == "TrancheBecameEligible").ShouldBe(1);
        rows.Count(r => r.Type == "MilestoneAchieved").ShouldBe(1);
        _treasury.Log.Ignored.ShouldBe(0);
    }

    [Fact]
    public async Task A_redelivered_TrancheBecameEligible_has_one_effect_at_the_consumer()
    {
        await Create(Deal("redelivered"));
        (await Achieve("redelivered", "trillion-param-model")).Code.ShouldBe(200);
        var first = await _treasury.WaitFor("redelivered", r => r.Any(x => x.Type == "TrancheBecameEligible"));
        var ignoredBefore = _treasury.Log.Ignored;

        // The transport hands the same message over twice more (new envelopes, same stable id).
        await using var session = Fixture.Store.LightweightSession();
        var events = (await session.Events.FetchStreamAsync("redelivered", token: TestContext.Current.CancellationToken)).Select(e => e.Data).ToList();
        var message = IntegrationEvents.For(Commitment.Fold(events.Take(2)), 2, events.Skip(2).ToList()).OfType<TrancheBecameEligible>().Single();
        message.Id.ShouldBe(first.Single(r => r.Type == "TrancheBecameEligible").Id);
        var bus = Fixture.Host.MessageBus();
        await bus.PublishAsync(message);
        await bus.PublishAsync(message);

        await Messaging.Settle(Fixture.ConnectionString);

        _treasury.Log.Ignored.ShouldBe(ignoredBefore + 2, "both redeliveries reached the consumer and were recognised");
        (await _treasury.Received("redelivered")).Count(r => r.Type == "TrancheBecameEligible").ShouldBe(1);
    }

    [Fact]
    public async Task A_revoked_and_re_achieved_milestone_flips_the_tranche_again_as_a_new_fact()
    {
        await Create(Deal("flip-twice"));
        (await Achieve("flip-twice", "trillion-param-model")).Code.ShouldBe(200);
        (await Admin.PostJson("/api/commitments/flip-twice/milestones/trillion-param-model/revoke", new { reason = "attested in error" })).Code.ShouldBe(200);
        (await Achieve("flip-twice", "trillion-param-model", "2025-07-01")).Code.ShouldBe(200);

        var rows = await _treasury.WaitFor("flip-twice", r => r.Count(x => x.Type == "TrancheBecameEligible") >= 2);
        rows.Where(r => r.Type == "TrancheBecameEligible").Select(r => r.Id).Distinct().Count().ShouldBe(2);
    }

    [Fact]
    public async Task Drawdown_marks_are_announced_once_each_with_the_date_of_the_usage_that_reached_them()
    {
        var deal = Deal("drawn");
        deal["computeCommitment"] = new
        {
            provider = "AWS", chips = new[] { "Trainium2" }, committedSpend = Usd(1_000m), termStart = "2025-01-01", termEnd = "2027-01-01",
        };
        await Create(deal);
        (await Admin.PostJson("/api/providers/AWS/rates", new
        {
            effectiveFrom = "2025-01-01",
            rates = new object[] { new { chip = "Trainium2", region = (string?)null, pricePerChipHour = Usd(10m) } },
        })).Code.ShouldBe(201);

        // 400, then 380 more (78%), then 300 more (108%): marks 50 and 75 on the second record, 90 and 100 on the third.
        foreach (var (id, hours, day) in new[] { ("d1", 40m, "2025-03-01"), ("d2", 38m, "2025-03-02"), ("d3", 30m, "2025-03-03") })
        {
            (await Ingest.PostJson("/api/usage", UsageTest.Batch(UsageTest.Record(id, hours, commitmentId: "drawn",
                start: $"{day}T00:00:00Z", end: $"{day}T01:00:00Z")))).Code.ShouldBe(200);
        }

        await CatchUp();
        await CommitmentWatch.RunOnce(Fixture.Host.Services, NodaTime.Instant.FromDateTimeOffset(Fixture.Time.GetUtcNow()), TestContext.Current.CancellationToken);
        await CommitmentWatch.RunOnce(Fixture.Host.Services, NodaTime.Instant.FromDateTimeOffset(Fixture.Time.GetUtcNow()), TestContext.Current.CancellationToken);

        await using var session = Fixture.Store.QuerySession();
        var crossed = (await session.Events.FetchStreamAsync("drawn", token: TestContext.Current.CancellationToken))
            .Select(e => e.Data).OfType<Ledger.Commitments.DrawdownThresholdCrossed>().ToList();
        crossed.Select(c => (c.Percent, c.CrossedOn.ToString("yyyy-MM-dd", null))).ShouldBe(
            [(50, "2025-03-02"), (75, "2025-03-02"), (90, "2025-03-03"), (100, "2025-03-03")]);

        var rows = await _treasury.WaitFor("drawn", r => r.Count(x => x.Type == "DrawdownThresholdCrossed") >= 4);
        rows.Count(r => r.Type == "DrawdownThresholdCrossed").ShouldBe(4);
    }
}
