using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ComputeLedger.Host.Tests.Infrastructure;
using Shouldly;

namespace ComputeLedger.Host.Tests.Usage;

/// <summary>POST /api/usage with CloudEvents 1.0 bodies: the same records, rules and answers as JSON.</summary>
public sealed class Ingesting_usage_as_CloudEvents(LedgerFixture fixture) : UsageTest(fixture)
{
    private const string CloudEventsBatch = "application/cloudevents-batch+json";

    public static Dictionary<string, object?> Event(string id, decimal chipHours = 2m, string type = "compute.usage.v1", string source = "//meter/eu-1",
        string subject = "amazon-anthropic", string provider = "AWS", string time = "2025-07-01T00:00:00Z") => new()
    {
        ["specversion"] = "1.0",
        ["type"] = type,
        ["source"] = source,
        ["id"] = id,
        ["subject"] = subject,
        ["time"] = time,
        ["datacontenttype"] = "application/json",
        ["data"] = new { provider, chip = "Trainium2", region = "us-east-1", chipHours, end = "2025-07-01T01:00:00Z", tokens = 1000 },
    };

    /// <summary>The derivation the README documents, computed here independently of the ledger's code.</summary>
    private static string UsageId(string source, string id) =>
        "ce-" + Convert.ToHexStringLower(SHA256.HashData([.. Encoding.UTF8.GetBytes(source), 0, .. Encoding.UTF8.GetBytes(id)]));

    private async Task<Http.Reply> Send(object body, string contentType, HttpClient? client = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/usage")
        {
            Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, contentType),
        };
        request.Content.Headers.ContentType!.CharSet = null;
        using var response = await (client ?? Ingest).SendAsync(request, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        return new Http.Reply(response.StatusCode, text.Length > 0 ? System.Text.Json.Nodes.JsonNode.Parse(text) : null, response.Headers,
            response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task A_batch_is_stored_under_usage_ids_derived_from_source_and_id_and_a_resent_event_is_a_duplicate_forever()
    {
        var first = await Send(new[] { Event("evt-1"), Event("evt-2", 3m) }, CloudEventsBatch);
        first.Code.ShouldBe(200, first.ToString());
        first.Json["accepted"]!.GetValue<int>().ShouldBe(2);

        (await Sql($"select string_agg(usage_id || '=' || amount::text, ',' order by amount) from ({RecordsSql}) r"))
            .ShouldBe($"{UsageId("//meter/eu-1", "evt-1")}=7.00,{UsageId("//meter/eu-1", "evt-2")}=10.50");

        var again = await Send(new[] { Event("evt-2", 3m), Event("evt-1", source: "//meter/eu-2") }, CloudEventsBatch);
        again.Json["duplicates"]!.GetValue<int>().ShouldBe(1);
        again.Json["accepted"]!.GetValue<int>().ShouldBe(1); // the same id from another source is another event
        (await CountRecords()).ShouldBe(3);

        // The same JSON record posted plainly under the derived id is the same record: a duplicate.
        var plain = await Post(Record(UsageId("//meter/eu-1", "evt-1"), tokens: 1000));
        plain.Json["duplicates"]!.GetValue<int>().ShouldBe(1);
    }

    [Fact]
    public async Task One_event_alone_is_accepted_as_application_cloudevents_json()
    {
        var reply = await Send(Event("single-1"), "application/cloudevents+json");

        reply.Code.ShouldBe(200, reply.ToString());
        reply.Json["accepted"]!.GetValue<int>().ShouldBe(1);
        (await CountRecords()).ShouldBe(1);
    }

    [Fact]
    public async Task Another_type_and_a_bad_record_are_rejected_on_their_own_and_the_rest_is_stored()
    {
        var reply = await Send(new[] { Event("ok-1"), Event("other-1", type: "com.example.invoice"), Event("bad-1", chipHours: -1m), Event("ok-2", subject: "no-such-deal") }, CloudEventsBatch);

        reply.Code.ShouldBe(200, reply.ToString());
        reply.Json["accepted"]!.GetValue<int>().ShouldBe(1);
        var rejected = reply.Json["rejected"]!.AsArray();
        rejected.Select(r => r!["index"]!.GetValue<int>()).ShouldBe([1, 2, 3]);
        rejected[0]!["errors"]![0]!.GetValue<string>().ShouldContain("type must be 'compute.usage.v1'");
        rejected[0]!["usageId"]!.GetValue<string>().ShouldBe(UsageId("//meter/eu-1", "other-1"));
        rejected[1]!["errors"]![0]!.GetValue<string>().ShouldContain("chipHours");
        rejected[2]!["errors"]![0]!.GetValue<string>().ShouldContain("no-such-deal");
        (await CountRecords()).ShouldBe(1);
    }

    [Fact]
    public async Task An_envelope_the_sdk_refuses_fails_the_batch_with_a_400_and_stores_nothing()
    {
        var bad = Event("v03");
        bad["specversion"] = "0.3";

        var reply = await Send(new[] { Event("fine"), bad }, CloudEventsBatch);

        reply.Code.ShouldBe(400, reply.ToString());
        reply.ContentType.ShouldBe("application/problem+json");
        reply.ToString().ShouldContain("CloudEvents");
        (await CountRecords()).ShouldBe(0);
    }

    [Fact]
    public async Task An_ingest_key_may_not_post_events_for_another_provider()
    {
        var reply = await Send(new[] { Event("gcp-1", provider: "GCP") }, CloudEventsBatch);

        reply.Code.ShouldBe(403, reply.ToString());
        (await CountRecords()).ShouldBe(0);
    }
}
