using ComputeLedger.Host.Tests.Infrastructure;
using Shouldly;

namespace ComputeLedger.Host.Tests.Commitments;

public class Eligibility_on_both_time_axes(LedgerFixture fixture) : LedgerTest(fixture)
{
    private async Task At(string instant, Func<Task> act)
    {
        Fixture.Time.Pinned = DateTimeOffset.Parse(instant, System.Globalization.CultureInfo.InvariantCulture);
        await act();
        Fixture.Time.Pinned = null;
    }

    private async Task<string> T1(string query)
    {
        var reply = await Analyst.GetJson($"/api/commitments/amazon-anthropic/eligibility?{query}");
        reply.Code.ShouldBe(200, reply.ToString());
        return reply.Json["tranches"]!.AsArray().Single(t => t!["trancheId"]!.GetValue<string>() == "t1")!["status"]!.GetValue<string>();
    }

    [Fact]
    public async Task As_of_a_business_date_counts_only_facts_dated_by_then()
    {
        await At("2025-01-10T09:00:00Z", () => Create(Deal()));
        await At("2025-07-02T09:00:00Z", () => Admin.PostJson("/api/commitments/amazon-anthropic/milestones/trillion-param-model/achieve",
            new { achievedOn = "2025-06-30", evidence = "paper" }));
        await At("2025-07-16T09:00:00Z", () => Admin.PostJson("/api/commitments/amazon-anthropic/tranches/t1/release", new { releasedOn = "2025-07-15" }));

        (await T1("asOf=2025-06-29")).ShouldBe("Locked");
        (await T1("asOf=2025-06-30")).ShouldBe("Eligible");
        (await T1("asOf=2025-07-14T23:59:59Z")).ShouldBe("Eligible");
        (await T1("asOf=2025-07-15T01:00:00%2B02:00")).ShouldBe("Eligible");
        (await T1("asOf=2025-07-15")).ShouldBe("Released");
        (await T1("")).ShouldBe("Released");

        var beforeSigning = (await Analyst.GetJson("/api/commitments/amazon-anthropic/eligibility?asOf=2024-01-01")).Json;
        beforeSigning["status"]!.GetValue<string>().ShouldBe("Offered");
        beforeSigning["released"].Amount().ShouldBe(0m);
    }

    [Fact]
    public async Task Known_at_a_date_shows_what_the_ledger_had_recorded_by_then()
    {
        await At("2025-01-10T09:00:00Z", () => Create(Deal()));
        // Recorded late: on 2025-08-01 an admin attests an achievement dated 2025-06-30.
        await At("2025-08-01T09:00:00Z", () => Admin.PostJson("/api/commitments/amazon-anthropic/milestones/trillion-param-model/achieve",
            new { achievedOn = "2025-06-30", evidence = "paper" }));

        (await T1("asOf=2025-07-15&knownAt=2025-07-31")).ShouldBe("Locked");
        (await T1("asOf=2025-07-15&knownAt=2025-08-01")).ShouldBe("Eligible");
        (await T1("asOf=2025-07-15")).ShouldBe("Eligible");

        var list = (await Analyst.GetJson("/api/commitments?knownAt=2025-07-31&asOf=2025-07-15")).Json.AsArray();
        list.Single()!["eligible"].Amount().ShouldBe(0m);
        (await Analyst.GetJson("/api/commitments?knownAt=2025-08-01")).Json.AsArray().Single()!["eligible"].Amount().ShouldBe(8_000_000_000m);
    }

    [Fact]
    public async Task A_commitment_not_yet_recorded_at_knownAt_is_a_404_that_says_so()
    {
        await At("2025-01-10T09:00:00Z", () => Create(Deal()));

        var reply = await Analyst.GetJson("/api/commitments/amazon-anthropic/eligibility?knownAt=2025-01-09");

        reply.Code.ShouldBe(404);
        reply.Json["detail"]!.GetValue<string>().ShouldContain("not yet recorded");
        (await Analyst.GetJson("/api/commitments?knownAt=2025-01-09")).Json.AsArray().ShouldBeEmpty();
        (await Analyst.GetJson("/api/commitments?asOf=yesterday")).Code.ShouldBe(400);
    }
}

public class Revoking_a_milestone(LedgerFixture fixture) : LedgerTest(fixture)
{
    [Fact]
    public async Task A_revocation_relocks_an_unreleased_tranche_is_idempotent_and_shows_on_both_axes()
    {
        Fixture.Time.Pinned = new DateTimeOffset(2025, 1, 10, 9, 0, 0, TimeSpan.Zero);
        await Create(Deal());
        Fixture.Time.Pinned = new DateTimeOffset(2025, 7, 1, 9, 0, 0, TimeSpan.Zero);
        await Admin.PostJson("/api/commitments/amazon-anthropic/milestones/trillion-param-model/achieve", new { achievedOn = "2025-06-30", evidence = "paper" });
        Fixture.Time.Pinned = new DateTimeOffset(2025, 9, 1, 9, 0, 0, TimeSpan.Zero);
        var revoked = await Admin.PostJson("/api/commitments/amazon-anthropic/milestones/trillion-param-model/revoke", new { reason = "paper retracted" });
        Fixture.Time.Pinned = null;

        revoked.Code.ShouldBe(200, revoked.ToString());
        revoked.Json["eligible"].Amount().ShouldBe(0m);
        (await Admin.PostJson("/api/commitments/amazon-anthropic/milestones/trillion-param-model/revoke", new { reason = "again" })).Code.ShouldBe(200);
        (await CountEvents("milestone_revoked")).ShouldBe(1);
        (await Admin.PostJson("/api/commitments/amazon-anthropic/milestones/aws-throughput-target/revoke", new { reason = "x" })).Code.ShouldBe(409);

        var before = (await Analyst.GetJson("/api/commitments/amazon-anthropic/eligibility?knownAt=2025-08-31")).Json;
        before["eligible"].Amount().ShouldBe(8_000_000_000m);
    }

    [Fact]
    public async Task A_released_tranche_stays_released_but_is_flagged()
    {
        await Create(Deal());
        await Admin.PostJson("/api/commitments/amazon-anthropic/milestones/trillion-param-model/achieve", new { achievedOn = "2025-06-30", evidence = "paper" });
        await Admin.PostJson("/api/commitments/amazon-anthropic/tranches/t1/release", new { releasedOn = "2025-07-15" });

        var view = (await Admin.PostJson("/api/commitments/amazon-anthropic/milestones/trillion-param-model/revoke", new { reason = "retracted" })).Json;

        var t1 = view["tranches"]!.AsArray().Single(t => t!["trancheId"]!.GetValue<string>() == "t1")!;
        t1["status"]!.GetValue<string>().ShouldBe("Released");
        t1["releasedOnRevokedMilestone"]!.GetValue<bool>().ShouldBeTrue();
        t1["milestones"]![0]!["achievedOn"].ShouldBeNull();
        t1["milestones"]![0]!["revokedAchievement"]!.GetValue<string>().ShouldBe("2025-06-30");
        view["released"].Amount().ShouldBe(13_000_000_000m);
    }

    [Fact]
    public async Task Lineage_of_a_tranche_lists_the_events_behind_its_status()
    {
        await Create(Deal());
        await Admin.PostJson("/api/commitments/amazon-anthropic/milestones/trillion-param-model/achieve", new { achievedOn = "2025-06-30", evidence = "paper" });
        await Admin.PostJson("/api/commitments/amazon-anthropic/milestones/aws-throughput-target/achieve", new { achievedOn = "2025-07-01", evidence = "bench" });
        await Admin.PostJson("/api/commitments/amazon-anthropic/tranches/t1/release", new { releasedOn = "2025-07-15" });

        var now = (await Analyst.GetJson("/api/explain/tranches/amazon-anthropic/t1")).Json;
        now["value"]!.GetValue<string>().ShouldBe("Released");
        now["events"]!.AsArray().Select(e => e!["type"]!.GetValue<string>())
            .ShouldBe(["commitment_offered", "commitment_signed", "milestone_achieved", "tranche_released"]);

        var then = (await Analyst.GetJson("/api/explain/tranches/amazon-anthropic/t1?asOf=2025-07-01")).Json;
        then["value"]!.GetValue<string>().ShouldBe("Eligible");
        then["events"]!.AsArray().Last()!["validTime"]!.GetValue<string>().ShouldBe("2025-06-30");
        (await Analyst.GetJson("/api/explain/tranches/amazon-anthropic/t9")).Code.ShouldBe(404);
    }
}
