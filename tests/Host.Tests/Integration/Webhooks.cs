using System.Text.Json.Nodes;
using ComputeLedger.Host.Integration;
using ComputeLedger.Host.Tests.Infrastructure;
using ComputeLedger.Host.Webhooks;
using Microsoft.Extensions.Configuration;
using Shouldly;

namespace ComputeLedger.Host.Tests.Integration;

public class Webhooks(LedgerFixture fixture) : LedgerTest(fixture)
{
    private const string Secret = "a-test-secret-of-some-length";

    private async Task<string> Register(string url, params string[] types)
    {
        var reply = await Admin.PostJson("/api/webhooks", new { url, eventTypes = types, secret = Secret });
        reply.Code.ShouldBe(201, reply.ToString());
        return reply.Json["id"]!.GetValue<string>();
    }

    private Task<Http.Reply> Achieve(string id, string milestone) =>
        Admin.PostJson($"/api/commitments/{id}/milestones/{milestone}/achieve", new { achievedOn = "2025-05-01", evidence = "board minutes" });

    [Fact]
    public async Task A_receiver_that_fails_its_first_three_deliveries_gets_exactly_one_signed_delivery_accepted()
    {
        await using var receiver = await Receiver.Start(n => Task.FromResult(n <= 3 ? 503 : 200));
        var webhook = await Register(receiver.Url, "TrancheBecameEligible");
        await Create(Deal("hooked"));
        (await Achieve("hooked", "trillion-param-model")).Code.ShouldBe(200);

        await receiver.WaitFor(r => r.Any(x => x.Status == 200));
        await Messaging.Settle(Fixture.ConnectionString, consumer: false); // every attempt the ledger would make has been made
        var requests = receiver.Requests.ToList();

        requests.Count.ShouldBe(4);
        requests.Count(r => r.Status == 200).ShouldBe(1);
        requests.ShouldAllBe(r => WebhookSignature.Verify(Secret, r.Body, r.Signature));
        requests.Select(r => Convert.ToBase64String(r.Body)).Distinct().Count().ShouldBe(1, "every attempt sends the same bytes");

        var body = JsonNode.Parse(requests[^1].Body)!;
        body["type"]!.GetValue<string>().ShouldBe("TrancheBecameEligible");
        body["id"]!.GetValue<Guid>().ShouldBe(IntegrationEvents.StableId("hooked", 3, "eligible:t1"));
        body["data"]!["trancheId"]!.GetValue<string>().ShouldBe("t1");
        body["data"]!["amount"]!["amount"]!.GetValue<decimal>().ShouldBe(8_000_000_000m);

        var log = (await Admin.GetJson($"/api/webhooks/{webhook}/deliveries")).Json;
        var delivery = log["deliveries"]!.AsArray().Single()!;
        delivery["status"]!.GetValue<string>().ShouldBe("Delivered");
        delivery["attempts"]!.AsArray().Select(a => a!["statusCode"]!.GetValue<int>()).ShouldBe([503, 503, 503, 200]);
    }

    [Fact]
    public async Task A_slow_receiver_holds_up_neither_the_ledger_nor_the_other_webhooks()
    {
        var release = new TaskCompletionSource();
        await using var slow = await Receiver.Start(async _ => { await release.Task; return 200; });
        await using var fast = await Receiver.Start(_ => Task.FromResult(200));
        await Register(slow.Url, "MilestoneAchieved", "TrancheBecameEligible");
        await Register(fast.Url, "MilestoneAchieved", "TrancheBecameEligible");
        await Create(Deal("slow"));

        (await Achieve("slow", "trillion-param-model")).Code.ShouldBe(200);
        (await Achieve("slow", "aws-throughput-target")).Code.ShouldBe(200);

        // Both events reach the fast receiver while the slow one still holds its first request open. (Requests lists only
        // answered requests, so the slow receiver's is counted on arrival.)
        await fast.WaitFor(r => r.Count >= 3);
        slow.Arrived.ShouldBeGreaterThan(0, "the slow receiver was called, and holds its request until released");
        slow.Requests.ShouldBeEmpty();
        release.SetResult();
        await slow.WaitFor(r => r.Count >= 3);
    }

    [Fact]
    public async Task Only_event_types_the_webhook_asked_for_are_delivered()
    {
        await using var receiver = await Receiver.Start(_ => Task.FromResult(200));
        // By name: localhost resolves to ::1 as well, where the receiver does not listen; the next address answers.
        await Register(receiver.Url.Replace("127.0.0.1", "localhost", StringComparison.Ordinal), "TrancheReleased");
        await Create(Deal("picky"));
        (await Achieve("picky", "trillion-param-model")).Code.ShouldBe(200);
        (await Admin.PostJson("/api/commitments/picky/tranches/t1/release", new { releasedOn = "2025-06-01" })).Code.ShouldBe(200);

        var requests = await receiver.WaitFor(r => r.Count >= 1);
        await Messaging.Settle(Fixture.ConnectionString, consumer: false);
        receiver.Requests.Count.ShouldBe(1);
        JsonNode.Parse(requests[0].Body)!["type"]!.GetValue<string>().ShouldBe("TrancheReleased");
    }

    [Theory]
    [InlineData("ftp://127.0.0.1/hook", "url")]
    [InlineData("http://hooks.example.com/ledger", "url")]
    [InlineData("not a url", "url")]
    [InlineData("http://169.254.169.254/latest/meta-data", "url")]
    public async Task A_receiver_url_outside_the_guard_is_refused_with_400(string url, string field)
    {
        var reply = await Admin.PostJson("/api/webhooks", new { url, eventTypes = new[] { "MilestoneAchieved" }, secret = Secret });
        reply.Code.ShouldBe(400, reply.ToString());
        reply.Json["errors"]![field].ShouldNotBeNull();
    }

    [Fact]
    public async Task Registration_says_what_is_wrong_with_types_and_secret_and_needs_an_admin_key()
    {
        var bad = await Admin.PostJson("/api/webhooks", new { url = "http://127.0.0.1:9/hook", eventTypes = new[] { "MilestoneAchieved", "Everything" }, secret = " " });
        bad.Code.ShouldBe(400, bad.ToString());
        bad.Json["errors"]!["eventTypes"]![0]!.GetValue<string>().ShouldContain("'Everything' is not an event type");
        bad.Json["errors"]!["secret"].ShouldNotBeNull();

        (await Analyst.PostJson("/api/webhooks", new { url = "http://127.0.0.1:9/hook", eventTypes = new[] { "MilestoneAchieved" }, secret = Secret })).Code.ShouldBe(403);
        (await Analyst.GetJson($"/api/webhooks/{Guid.NewGuid()}/deliveries")).Code.ShouldBe(403);
        (await Admin.GetJson($"/api/webhooks/{Guid.NewGuid()}/deliveries")).Code.ShouldBe(404);
        (await Admin.GetJson("/api/webhooks/not-an-id/deliveries")).Code.ShouldBe(404);
        var malformed = await Admin.PostJson("/api/webhooks", "{ \"url\": ");
        malformed.Code.ShouldBe(400, malformed.ToString());
        malformed.ContentType.ShouldBe("application/problem+json");
    }

    [Theory]
    [InlineData("https://hooks.partner.example/ledger", null)]
    [InlineData("http://hooks.partner.example/ledger", "https")]
    [InlineData("https://elsewhere.example/ledger", "allow-list")]
    [InlineData("https://127.0.0.1/ledger", "allow-list")]
    [InlineData("https://user:pw@hooks.partner.example/ledger", "credentials")]
    public void Outside_Development_only_https_urls_on_the_allow_list_are_accepted(string url, string? refusal)
    {
        var options = WebhookOptions.From(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Ledger:Webhooks:AllowedHosts:0"] = "hooks.partner.example",
        }).Build(), development: false);

        var why = options.Refusal(url);
        if (refusal is null)
        {
            why.ShouldBeNull();
        }
        else
        {
            why.ShouldNotBeNull().ShouldContain(refusal);
        }

        options.MayConnectTo(System.Net.IPAddress.Loopback).ShouldBeFalse();
        options.MayConnectTo(System.Net.IPAddress.Parse("10.1.2.3")).ShouldBeFalse();
        options.MayConnectTo(System.Net.IPAddress.Parse("93.184.216.34")).ShouldBeTrue();
    }
}
