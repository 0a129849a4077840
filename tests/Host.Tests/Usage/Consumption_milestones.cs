using ComputeLedger.Host.Tests.Infrastructure;
using Shouldly;

namespace ComputeLedger.Host.Tests.Usage;

public class Consumption_milestones(LedgerFixture fixture) : LedgerTest(fixture)
{
    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        await Create(MilestoneDeal("amazon-anthropic"));
        (await Admin.PostJson("/api/providers/AWS/rates", new
        {
            effectiveFrom = "2025-01-01",
            rates = new object[]
            {
                new { chip = "Trainium2", region = (string?)null, pricePerChipHour = Usd(4m) },
                new { chip = "Inferentia2", region = (string?)null, pricePerChipHour = Usd(1m) },
            },
        })).Code.ShouldBe(201);
    }

    private static Dictionary<string, object?> MilestoneDeal(string id)
    {
        var deal = Deal(id);
        deal["milestones"] = new object[]
        {
            new { milestoneId = "trillion-param-model", description = "1T+ model", kind = "attested" },
            new { milestoneId = "training-scale", description = "10 Trainium2 chip-hours", kind = "consumption",
                threshold = new { chipHours = 10m }, chips = new[] { "Trainium2" }, deadline = "2026-12-31" },
        };
        deal["tranches"] = new object[]
        {
            new { trancheId = "t1", amount = Usd(8_000_000_000m), milestones = new[] { "trillion-param-model" } },
            new { trancheId = "t2", amount = Usd(12_000_000_000m), milestones = new[] { "training-scale" } },
        };
        deal["computeCommitment"] = new
        {
            provider = "AWS", chips = new[] { "Trainium2", "Inferentia2" }, committedSpend = Usd(1_000_000m), termStart = "2025-01-01", termEnd = "2027-01-01",
        };
        return deal;
    }

    private Task<Http.Reply> Post(params object[] records) => Ingest.PostJson("/api/usage", UsageTest.Batch(records));

    private static Dictionary<string, object?> At(string id, decimal hours, string day, string chip = "Trainium2") =>
        UsageTest.Record(id, hours, chip, null, $"{day}T00:00:00Z", $"{day}T01:00:00Z");

    private async Task<string?> AchievedOn()
    {
        var view = (await Analyst.GetJson("/api/commitments/amazon-anthropic/eligibility")).Json;
        var t2 = view["tranches"]!.AsArray().Single(t => t!["trancheId"]!.GetValue<string>() == "t2")!;
        return t2["milestones"]![0]!["achievedOn"]?.GetValue<string>();
    }

    [Fact]
    public async Task The_record_that_makes_cumulative_consumption_reach_the_threshold_dates_it_even_when_usage_is_late()
    {
        await Post(At("a", 4m, "2025-07-10"), At("c", 4m, "2025-07-20"), At("other-chip", 50m, "2025-07-01", "Inferentia2"));
        (await AchievedOn()).ShouldBeNull();

        // Late: mid-July usage arrives after the 20th. In valid-time order 4 + 3 = 7, then + 4 = 11 >= 10 on the 20th.
        await Post(At("b", 3m, "2025-07-15"));

        (await AchievedOn()).ShouldBe("2025-07-20");
        (await CountEvents("milestone_achieved")).ShouldBe(1);
        var view = (await Analyst.GetJson("/api/commitments/amazon-anthropic/eligibility")).Json;
        view["eligible"].Amount().ShouldBe(12_000_000_000m);

        await Post(At("d", 40m, "2025-07-02"));
        (await CountEvents("milestone_achieved")).ShouldBe(1);
    }

    [Fact]
    public async Task Eight_concurrent_batches_crossing_the_threshold_achieve_it_exactly_once()
    {
        await using var treasury = await Integration.Treasury.Start(Fixture.ConnectionString);
        var batches = Enumerable.Range(0, 8).Select(b => UsageTest.Batch(At($"p-{b}", 2m, $"2025-08-{b + 1:00}"))).ToArray();

        var replies = await Task.WhenAll(batches.Select(body => Fixture.Client("dev-ingest").PostJson("/api/usage", body)));

        replies.ShouldAllBe(r => r.Code == 200);
        (await CountEvents("milestone_achieved")).ShouldBe(1);
        // 2 chip-hours a day from the 1st. The date is fixed when the threshold is first reached, from the usage recorded
        // by then in valid-time order: the 5th at the earliest (all eight seen at once), the 8th at the latest.
        (await AchievedOn()).ShouldBeOneOf("2025-08-05", "2025-08-06", "2025-08-07", "2025-08-08");

        // And one MilestoneAchieved (with the tranche it completes) at the consumer.
        await treasury.WaitFor("amazon-anthropic", r => r.Any(x => x.Type == "TrancheBecameEligible"));
        await Integration.Messaging.Settle(Fixture.ConnectionString);
        var received = await treasury.Received("amazon-anthropic");
        received.Count(r => r.Type == "MilestoneAchieved").ShouldBe(1);
        received.Count(r => r.Type == "TrancheBecameEligible").ShouldBe(1);
    }

    [Fact]
    public async Task A_consumption_milestone_needs_one_threshold_and_cannot_be_attested()
    {
        var deal = Deal("other");
        deal["milestones"] = new object[] { new { milestoneId = "m", description = "d", kind = "consumption" } };
        deal["tranches"] = new object[] { new { trancheId = "t1", amount = Usd(20_000_000_000m), milestones = new[] { "m" } } };
        var reply = await Admin.PostJson("/api/commitments", deal);
        reply.Code.ShouldBe(400, reply.ToString());
        reply.Json["errors"]!.AsObject().Select(e => e.Key).ShouldContain("milestones[0].threshold");

        var attest = await Admin.PostJson("/api/commitments/amazon-anthropic/milestones/training-scale/achieve",
            new { achievedOn = "2025-07-01", evidence = "trust me" });
        attest.Code.ShouldBe(409);
    }

    [Fact]
    public async Task A_void_that_takes_consumption_back_under_the_threshold_is_recorded_once_and_never_unachieves()
    {
        await Post(At("x", 6m, "2025-07-10"), At("y", 6m, "2025-07-11"));
        (await AchievedOn()).ShouldBe("2025-07-11");

        (await Admin.PostJson("/api/usage/y/void", new { reason = "meter fault" })).Code.ShouldBe(200);
        (await Admin.PostJson("/api/usage/x/correct", new { chipHours = 1m })).Code.ShouldBe(200);

        (await CountEvents("milestone_threshold_reverted")).ShouldBe(1);
        (await AchievedOn()).ShouldBe("2025-07-11");
        var view = (await Analyst.GetJson("/api/commitments/amazon-anthropic/eligibility")).Json;
        var t2 = view["tranches"]!.AsArray().Single(t => t!["trancheId"]!.GetValue<string>() == "t2")!;
        t2["status"]!.GetValue<string>().ShouldBe("Eligible");
        t2["milestones"]![0]!["thresholdReverted"]!.GetValue<bool>().ShouldBeTrue();
    }

    [Fact]
    public async Task A_correction_that_raises_consumption_over_the_threshold_achieves_the_milestone()
    {
        await Post(At("x", 6m, "2025-07-10"), At("y", 2m, "2025-07-11"));
        (await AchievedOn()).ShouldBeNull();

        (await Admin.PostJson("/api/usage/y/correct", new { chipHours = 5m, reason = "meter under-read" })).Code.ShouldBe(200);

        (await AchievedOn()).ShouldBe("2025-07-11");
        (await CountEvents("milestone_achieved")).ShouldBe(1);
    }

    [Fact]
    public async Task A_detected_milestone_cannot_be_revoked_by_hand()
    {
        await Post(At("x", 12m, "2025-07-10"));
        (await AchievedOn()).ShouldBe("2025-07-10");

        var reply = await Admin.PostJson("/api/commitments/amazon-anthropic/milestones/training-scale/revoke", new { reason = "looks wrong" });

        reply.Code.ShouldBe(409, reply.ToString());
        reply.Json["detail"]!.GetValue<string>().ShouldContain("Void or correct the usage");
        (await AchievedOn()).ShouldBe("2025-07-10");
    }

    [Fact]
    public async Task A_deadline_that_passes_without_a_crossing_records_a_missed_milestone_once()
    {
        await Post(At("x", 6m, "2025-07-10"));
        var afterDeadline = NodaTime.Instant.FromUtc(2027, 1, 2, 0, 0);

        await ComputeLedger.Host.Commitments.TrackingConsumption.CommitmentWatch.RunOnce(Fixture.Host.Services, afterDeadline, TestContext.Current.CancellationToken);
        await ComputeLedger.Host.Commitments.TrackingConsumption.CommitmentWatch.RunOnce(Fixture.Host.Services, afterDeadline, TestContext.Current.CancellationToken);

        (await CountEvents("milestone_missed")).ShouldBe(1);
        var view = (await Analyst.GetJson("/api/commitments/amazon-anthropic/eligibility")).Json;
        var milestone = view["tranches"]!.AsArray().Single(t => t!["trancheId"]!.GetValue<string>() == "t2")!["milestones"]![0]!;
        milestone["missedDeadline"]!.GetValue<string>().ShouldBe("2026-12-31");
        milestone["achievedOn"].ShouldBeNull();

        // Once missed, later usage no longer achieves it.
        await Post(At("y", 6m, "2025-07-11"));
        (await CountEvents("milestone_achieved")).ShouldBe(0);
    }

    [Fact]
    public async Task A_milestone_whose_deadline_has_not_passed_is_left_alone()
    {
        await ComputeLedger.Host.Commitments.TrackingConsumption.CommitmentWatch.RunOnce(Fixture.Host.Services, NodaTime.Instant.FromUtc(2026, 12, 31, 23, 0), TestContext.Current.CancellationToken);

        (await CountEvents("milestone_missed")).ShouldBe(0);
    }

    [Fact]
    public async Task A_commitment_that_cannot_be_evaluated_does_not_stop_the_watch_for_the_others()
    {
        await Create(MilestoneDeal("poisoned"));
        // Claims an older release let in: their chip-hours sum past what a decimal holds, so its deadline check throws.
        await Sql("""
            insert into ledger.usage_claims (usage_id, fingerprint, commitment_id, stream_id, amount, currency, chip, chip_hours, start)
            values ('big-1', 'f', 'poisoned', 's', 0, 'USD', 'Trainium2', 50000000000000000000000000000, '2025-07-01'),
                   ('big-2', 'f', 'poisoned', 's', 0, 'USD', 'Trainium2', 50000000000000000000000000000, '2025-07-01')
            """);
        var afterDeadline = NodaTime.Instant.FromUtc(2027, 1, 2, 0, 0);

        await ComputeLedger.Host.Commitments.TrackingConsumption.CommitmentWatch.RunOnce(Fixture.Host.Services, afterDeadline, TestContext.Current.CancellationToken);

        (await Sql("select string_agg(stream_id, ',') from ledger.mt_events where type = 'milestone_missed'")).ShouldBe("amazon-anthropic");
    }
}
