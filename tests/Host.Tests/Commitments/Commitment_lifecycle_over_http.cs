using System.Text.Json.Nodes;
using ComputeLedger.Host.Tests.Infrastructure;
using Marten;
using Shouldly;

namespace ComputeLedger.Host.Tests.Commitments;

public class Commitment_lifecycle_over_http(LedgerFixture fixture) : LedgerTest(fixture)
{
    [Fact]
    public async Task Creating_a_signed_commitment_answers_201_with_its_eligibility()
    {
        var reply = await Create(Deal());

        reply.Headers.Location!.ToString().ShouldBe("/api/commitments/amazon-anthropic/eligibility");
        var view = (await Analyst.GetJson("/api/commitments/amazon-anthropic/eligibility")).Json;
        view["commitmentId"]!.GetValue<string>().ShouldBe("amazon-anthropic");
        view["investor"]!.GetValue<string>().ShouldBe("Amazon");
        view["partner"]!.GetValue<string>().ShouldBe("Anthropic");
        view["provider"]!.GetValue<string>().ShouldBe("AWS");
        view["status"]!.GetValue<string>().ShouldBe("Signed");
        view["headline"].Amount().ShouldBe(25_000_000_000m);
        view["headline"]!["currency"]!.GetValue<string>().ShouldBe("USD");
        view["released"].Amount().ShouldBe(5_000_000_000m);
        view["eligible"].Amount().ShouldBe(0m);
        view["locked"].Amount().ShouldBe(20_000_000_000m);

        var tranches = view["tranches"]!.AsArray();
        tranches.Select(t => t!["trancheId"]!.GetValue<string>()).ShouldBe(["upfront", "t1", "t2"]);
        tranches[0]!["status"]!.GetValue<string>().ShouldBe("Released");
        tranches[1]!["status"]!.GetValue<string>().ShouldBe("Locked");
        var milestone = tranches[1]!["milestones"]![0]!;
        milestone["milestoneId"]!.GetValue<string>().ShouldBe("trillion-param-model");
        milestone["description"]!.GetValue<string>().ShouldBe("1T+ parameter model");
        milestone["achievedOn"].ShouldBeNull();
    }

    [Fact]
    public async Task Achieving_every_milestone_of_a_tranche_makes_it_eligible_and_releasing_it_moves_the_money_once()
    {
        await Create(Deal());

        var afterFirst = await Admin.PostJson("/api/commitments/amazon-anthropic/milestones/aws-throughput-target/achieve",
            new { achievedOn = "2025-06-30", evidence = "benchmark report" });
        afterFirst.Code.ShouldBe(200, afterFirst.ToString());
        Tranche(afterFirst.Json, "t2")["status"]!.GetValue<string>().ShouldBe("Locked");

        var afterSecond = await Admin.PostJson("/api/commitments/amazon-anthropic/milestones/inference-at-scale/achieve",
            new { achievedOn = "2025-07-02", evidence = "endpoint dashboard" });
        var t2 = Tranche(afterSecond.Json, "t2");
        t2["status"]!.GetValue<string>().ShouldBe("Eligible");
        t2["milestones"]!.AsArray().Select(m => m!["achievedOn"]!.GetValue<string>()).ShouldBe(["2025-06-30", "2025-07-02"]);
        afterSecond.Json["eligible"].Amount().ShouldBe(12_000_000_000m);
        afterSecond.Json["locked"].Amount().ShouldBe(8_000_000_000m);

        var released = await Admin.PostJson("/api/commitments/amazon-anthropic/tranches/t2/release", new { releasedOn = "2025-07-15" });
        released.Code.ShouldBe(200, released.ToString());
        released.Json["released"].Amount().ShouldBe(17_000_000_000m);
        released.Json["eligible"].Amount().ShouldBe(0m);
        Tranche(released.Json, "t2")["status"]!.GetValue<string>().ShouldBe("Released");

        var again = await Admin.PostJson("/api/commitments/amazon-anthropic/tranches/t2/release", new { releasedOn = "2025-07-16" });
        again.Code.ShouldBe(409);
        again.ContentType.ShouldBe("application/problem+json");
        again.Json["detail"]!.GetValue<string>().ShouldContain("already released on 2025-07-15");

        var view = (await Analyst.GetJson("/api/commitments/amazon-anthropic/eligibility")).Json;
        view["released"].Amount().ShouldBe(17_000_000_000m);
    }

    [Fact]
    public async Task An_offer_is_signed_later_and_its_upfront_released_on_the_signing_date()
    {
        var created = await Create(Deal(status: "Offered"));
        created.Json["status"]!.GetValue<string>().ShouldBe("Offered");
        created.Json["released"].Amount().ShouldBe(0m);

        var signed = await Admin.PostJson("/api/commitments/amazon-anthropic/sign", new { signedOn = "2024-04-01" });

        signed.Code.ShouldBe(200, signed.ToString());
        signed.Json["status"]!.GetValue<string>().ShouldBe("Signed");
        signed.Json["released"].Amount().ShouldBe(5_000_000_000m);
        Tranche(signed.Json, "upfront")["releasedOn"]!.GetValue<string>().ShouldBe("2024-04-01");
    }

    [Fact]
    public async Task A_declined_offer_cannot_be_signed()
    {
        await Create(Deal("amazon-openai", "Offered"));

        var declined = await Admin.PostJson("/api/commitments/amazon-openai/decline", new { reason = "went with Microsoft" });
        declined.Code.ShouldBe(200, declined.ToString());
        declined.Json["status"]!.GetValue<string>().ShouldBe("Declined");

        var sign = await Admin.PostJson("/api/commitments/amazon-openai/sign", new { signedOn = "2024-10-01" });
        sign.Code.ShouldBe(409);
        sign.Json["detail"]!.GetValue<string>().ShouldContain("declined");
    }

    [Fact]
    public async Task Decline_takes_an_empty_body()
    {
        await Create(Deal("amazon-openai", "Offered"));

        var declined = await Admin.PostJson("/api/commitments/amazon-openai/decline", null);

        declined.Code.ShouldBe(200, declined.ToString());
    }

    [Fact]
    public async Task The_list_gives_every_commitment_with_its_totals()
    {
        await Create(Deal("amazon-anthropic"));
        await Create(Deal("google-anthropic", "Offered"));

        var list = (await Analyst.GetJson("/api/commitments")).Json.AsArray();

        list.Select(c => c!["commitmentId"]!.GetValue<string>()).ShouldBe(["amazon-anthropic", "google-anthropic"]);
        list[0]!["released"].Amount().ShouldBe(5_000_000_000m);
        list[0]!["locked"].Amount().ShouldBe(20_000_000_000m);
        list[1]!["locked"].Amount().ShouldBe(25_000_000_000m);
    }

    [Fact]
    public async Task Events_are_stored_under_stable_names_in_one_stream_per_deal()
    {
        await Create(Deal());
        await Admin.PostJson("/api/commitments/amazon-anthropic/milestones/trillion-param-model/achieve",
            new { achievedOn = "2025-06-30", evidence = "paper" });
        await Admin.PostJson("/api/commitments/amazon-anthropic/tranches/t1/release", new { releasedOn = "2025-07-15" });

        await using var session = Fixture.Store.QuerySession();
        var events = await session.Events.FetchStreamAsync("amazon-anthropic", token: TestContext.Current.CancellationToken);

        events.Select(e => e.EventTypeName).ShouldBe(["commitment_offered", "commitment_signed", "milestone_achieved", "tranche_released"]);
    }

    private static JsonNode Tranche(JsonNode view, string id) =>
        view["tranches"]!.AsArray().Single(t => t!["trancheId"]!.GetValue<string>() == id)!;
}
