using System.Text.Json.Nodes;
using ComputeLedger.Host.Tests.Infrastructure;
using Marten;
using Shouldly;

namespace ComputeLedger.Host.Tests.Commitments;

public class Commitment_errors_over_http(LedgerFixture fixture) : LedgerTest(fixture)
{
    private async Task ShouldStoreNothing()
    {
        // The chip catalog is seeded with events of its own; nothing else may have been written.
        (await Sql("select count(*) from ledger.mt_events where type <> 'chip_added'")).ShouldBe(0L);
    }

    private static void ShouldBeProblem(Http.Reply reply, int status, string? field = null)
    {
        reply.Code.ShouldBe(status, reply.ToString());
        reply.ContentType.ShouldBe("application/problem+json");
        reply.Json["status"]!.GetValue<int>().ShouldBe(status);
        reply.Json["detail"]!.GetValue<string>().ShouldNotBeNullOrWhiteSpace();
        if (field is not null)
        {
            reply.Json["errors"]!.AsObject().Select(e => e.Key).ShouldContain(field);
        }
    }

    [Fact]
    public async Task Malformed_json_is_a_400_problem_and_stores_nothing()
    {
        var reply = await Admin.PostJson("/api/commitments", "{ \"commitmentId\": \"x\", ");

        ShouldBeProblem(reply, 400);
        await ShouldStoreNothing();
    }

    [Fact]
    public async Task A_value_of_the_wrong_type_is_a_400_naming_its_path()
    {
        var deal = Deal();
        deal["signedOn"] = "2024-13-45";

        var reply = await Admin.PostJson("/api/commitments", deal);

        ShouldBeProblem(reply, 400);
        reply.Json["detail"]!.GetValue<string>().ShouldContain("signedOn");
        await ShouldStoreNothing();
    }

    [Theory]
    [InlineData("commitmentId")]
    [InlineData("investor")]
    [InlineData("partner")]
    [InlineData("provider")]
    [InlineData("headline")]
    [InlineData("status")]
    public async Task A_missing_required_field_is_a_400_naming_it(string field)
    {
        var deal = Deal();
        deal.Remove(field);

        ShouldBeProblem(await Admin.PostJson("/api/commitments", deal), 400, field);
        await ShouldStoreNothing();
    }

    [Fact]
    public async Task Upfront_plus_tranches_not_equal_to_headline_is_a_400_that_gives_the_numbers()
    {
        var deal = Deal();
        deal["headline"] = Usd(26_000_000_000m);

        var reply = await Admin.PostJson("/api/commitments", deal);

        ShouldBeProblem(reply, 400, "headline");
        reply.Json["detail"]!.GetValue<string>().ShouldContain("5000000000 + 20000000000 = 25000000000 USD");
        reply.Json["detail"]!.GetValue<string>().ShouldContain("26000000000");
        await ShouldStoreNothing();
    }

    [Fact]
    public async Task A_signed_commitment_without_its_signing_date_is_a_400()
    {
        var deal = Deal();
        deal["signedOn"] = null;

        ShouldBeProblem(await Admin.PostJson("/api/commitments", deal), 400, "signedOn");
    }

    [Fact]
    public async Task An_unknown_milestone_kind_and_a_bad_currency_are_400s_naming_the_field()
    {
        var deal = Deal();
        deal["milestones"] = new object[] { new { milestoneId = "m", description = "d", kind = "vibes" } };
        deal["tranches"] = new object[] { new { trancheId = "t1", amount = new { amount = 20_000_000_000m, currency = "usd" }, milestones = new[] { "m" } } };

        var reply = await Admin.PostJson("/api/commitments", deal);

        ShouldBeProblem(reply, 400, "milestones[0].kind");
        reply.Json["errors"]!.AsObject().Select(e => e.Key).ShouldContain("tranches[0].amount.currency");
    }

    [Fact]
    public async Task Bodies_of_the_other_writes_are_validated_too()
    {
        await Create(Deal());

        ShouldBeProblem(await Admin.PostJson("/api/commitments/amazon-anthropic/milestones/trillion-param-model/achieve",
            new { achievedOn = "2025-06-30" }), 400, "evidence");
        ShouldBeProblem(await Admin.PostJson("/api/commitments/amazon-anthropic/tranches/t1/release", new { }), 400, "releasedOn");
        ShouldBeProblem(await Admin.PostJson("/api/commitments/amazon-anthropic/sign", new { }), 400, "signedOn");
    }

    [Fact]
    public async Task Unknown_commitments_milestones_and_tranches_are_404s()
    {
        ShouldBeProblem(await Analyst.GetJson("/api/commitments/nope/eligibility"), 404);
        ShouldBeProblem(await Admin.PostJson("/api/commitments/nope/sign", new { signedOn = "2024-01-01" }), 404);
        ShouldBeProblem(await Admin.PostJson("/api/commitments/nope/decline", new { }), 404);

        await Create(Deal());
        ShouldBeProblem(await Admin.PostJson("/api/commitments/amazon-anthropic/milestones/agi/achieve",
            new { achievedOn = "2025-06-30", evidence = "trust me" }), 404);
        ShouldBeProblem(await Admin.PostJson("/api/commitments/amazon-anthropic/tranches/t9/release",
            new { releasedOn = "2025-06-30" }), 404);
    }

    [Fact]
    public async Task A_duplicate_id_is_a_409_and_the_first_commitment_is_untouched()
    {
        await Create(Deal());
        var other = Deal();
        other["investor"] = "Someone else";

        ShouldBeProblem(await Admin.PostJson("/api/commitments", other), 409);

        var view = (await Analyst.GetJson("/api/commitments/amazon-anthropic/eligibility")).Json;
        view["investor"]!.GetValue<string>().ShouldBe("Amazon");
    }

    [Fact]
    public async Task Releasing_a_locked_tranche_is_a_409_naming_the_missing_milestones()
    {
        await Create(Deal());

        var reply = await Admin.PostJson("/api/commitments/amazon-anthropic/tranches/t1/release", new { releasedOn = "2025-07-15" });

        ShouldBeProblem(reply, 409);
        reply.Json["detail"]!.GetValue<string>().ShouldContain("trillion-param-model");
    }

    [Fact]
    public async Task A_stale_version_is_a_409_whether_sent_in_the_body_or_as_If_Match()
    {
        var created = await Create(Deal());
        var version = created.Json["version"]!.GetValue<int>();
        version.ShouldBe(2);

        await Admin.PostJson("/api/commitments/amazon-anthropic/milestones/trillion-param-model/achieve",
            new { achievedOn = "2025-06-30", evidence = "paper", expectedVersion = version });

        ShouldBeProblem(await Admin.PostJson("/api/commitments/amazon-anthropic/milestones/aws-throughput-target/achieve",
            new { achievedOn = "2025-06-30", evidence = "paper", expectedVersion = version }), 409);
        ShouldBeProblem(await Admin.PostJson("/api/commitments/amazon-anthropic/milestones/aws-throughput-target/achieve",
            new { achievedOn = "2025-06-30", evidence = "paper" }, new Dictionary<string, string> { ["If-Match"] = $"\"{version}\"" }), 409);

        var current = await Analyst.GetJson("/api/commitments/amazon-anthropic/eligibility");
        current.Headers.ETag!.Tag.ShouldBe("\"3\"");
        var ok = await Admin.PostJson("/api/commitments/amazon-anthropic/milestones/aws-throughput-target/achieve",
            new { achievedOn = "2025-06-30", evidence = "paper" }, new Dictionary<string, string> { ["If-Match"] = "\"3\"" });
        ok.Code.ShouldBe(200, ok.ToString());
    }

    [Fact]
    public async Task Concurrent_writers_never_lose_an_update_the_losers_get_409()
    {
        await Create(Deal());
        string[] milestones = ["trillion-param-model", "aws-throughput-target", "inference-at-scale"];

        var replies = await Task.WhenAll(Enumerable.Range(0, 3).Select(i => Fixture.Client().PostJson(
            $"/api/commitments/amazon-anthropic/milestones/{milestones[i]}/achieve",
            new { achievedOn = "2025-06-30", evidence = $"writer {i}" })));

        replies.Select(r => r.Code).ShouldAllBe(code => code == 200 || code == 409);
        var winners = replies.Count(r => r.Code == 200);
        winners.ShouldBeGreaterThan(0);

        var view = (await Analyst.GetJson("/api/commitments/amazon-anthropic/eligibility")).Json;
        view["version"]!.GetValue<int>().ShouldBe(2 + winners);
        var achieved = view["tranches"]!.AsArray().SelectMany(t => t!["milestones"]!.AsArray())
            .Count(m => m!["achievedOn"] is JsonValue);
        achieved.ShouldBe(winners);
    }
}
