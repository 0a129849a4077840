// Over 200 lines: the ingest contract's cases (formats, duplicates, conflicts, limits, scoping) read together as one
// specification of POST /api/usage.
using System.Net.Http.Headers;
using System.Text;
using ComputeLedger.Host.Tests.Infrastructure;
using Shouldly;

namespace ComputeLedger.Host.Tests.Usage;

public class Ingesting_usage(LedgerFixture fixture) : UsageTest(fixture)
{
    [Fact]
    public async Task Each_accepted_batch_becomes_one_UsageRecorded_event_per_commitment_outside_the_commitment_stream_with_each_record_priced()
    {
        var reply = await Post(Record("u-1", 2m), Record("u-2", 3m, region: "eu-west-1"));

        reply.Code.ShouldBe(200, reply.ToString());
        reply.Json["accepted"]!.GetValue<int>().ShouldBe(2);
        reply.Json["duplicates"]!.GetValue<int>().ShouldBe(0);
        reply.Json["rejected"]!.AsArray().ShouldBeEmpty();

        (await CountRecords()).ShouldBe(2);
        (await CountEvents("usage_recorded")).ShouldBe(1);
        (await Sql("select count(*) from ledger.mt_events where type = 'usage_recorded' and stream_id = 'amazon-anthropic'")).ShouldBe(0L);
        // Exact region 3.50 × 2 h; region without its own line falls back to "any" at 4.00 × 3 h.
        (await Sql($"select string_agg(amount::text, ',' order by usage_id) from ({RecordsSql}) r")).ShouldBe("7.00,12.00");
        (await Sql($"select string_agg(price::text, ',' order by usage_id) from ({RecordsSql}) r")).ShouldBe("3.50,4.00");
    }

    [Fact]
    public async Task A_retried_batch_counts_duplicates_and_stores_nothing_twice()
    {
        (await Post(Record("u-1"), Record("u-2"))).Json["accepted"]!.GetValue<int>().ShouldBe(2);

        var retry = await Post(Record("u-1"), Record("u-2"), Record("u-3"));

        retry.Json["accepted"]!.GetValue<int>().ShouldBe(1);
        retry.Json["duplicates"]!.GetValue<int>().ShouldBe(2);
        (await CountRecords()).ShouldBe(3);
    }

    [Fact]
    public async Task The_same_usage_id_twice_in_one_batch_counts_the_second_as_a_duplicate()
    {
        var reply = await Post(Record("u-1"), Record("u-1"));

        reply.Json["accepted"]!.GetValue<int>().ShouldBe(1);
        reply.Json["duplicates"]!.GetValue<int>().ShouldBe(1);
        (await CountRecords()).ShouldBe(1);
    }

    [Fact]
    public async Task The_same_usage_id_with_other_content_is_rejected_never_dropped()
    {
        await Post(Record("u-1", 2m));

        var reply = await Post(Record("u-1", 5m), Record("u-2"), Record("u-2", 9m));

        reply.Json["accepted"]!.GetValue<int>().ShouldBe(1);
        var rejected = reply.Json["rejected"]!.AsArray();
        rejected.Select(r => r!["index"]!.GetValue<int>()).ShouldBe([0, 2]);
        rejected[0]!["errors"]![0]!.GetValue<string>().ShouldContain("already recorded with different content");
        rejected[1]!["errors"]![0]!.GetValue<string>().ShouldContain("earlier in this batch");
    }

    [Fact]
    public async Task Invalid_records_are_rejected_one_by_one_and_the_valid_ones_stored()
    {
        await Create(Deal("offered-deal", "Offered"));
        var reply = await Admin.PostJson("/api/usage", Batch(
            Record("ok-1"),
            Record(""),
            Record("unknown", commitmentId: "nope"),
            Record("unsigned", commitmentId: "offered-deal"),
            Record("other-provider", provider: "Oracle OCI"),
            Record("uncovered-chip", chip: "H100"),
            Record("zero-hours", 0m),
            Record("backwards", start: "2025-07-01T02:00:00Z", end: "2025-07-01T01:00:00Z"),
            Record("too-long", start: "2025-05-01T00:00:00Z", end: "2025-06-02T00:00:00Z"),
            Record("future", start: "2099-01-01T00:00:00Z", end: "2099-01-01T01:00:00Z"),
            Record("ok-2")));

        reply.Code.ShouldBe(200, reply.ToString());
        reply.Json["accepted"]!.GetValue<int>().ShouldBe(2);
        var rejected = reply.Json["rejected"]!.AsArray().ToDictionary(r => r!["index"]!.GetValue<int>(), r => string.Join(" ", r!["errors"]!.AsArray().Select(e => e!.GetValue<string>())));
        rejected.Keys.ShouldBe([1, 2, 3, 4, 5, 6, 7, 8, 9]);
        rejected[1].ShouldContain("usageId is required");
        rejected[2].ShouldContain("'nope' is unknown");
        rejected[3].ShouldContain("not signed");
        rejected[4].ShouldContain("differs from commitment");
        rejected[5].ShouldContain("not covered");
        rejected[6].ShouldContain("greater than 0");
        rejected[7].ShouldContain("must be after start");
        rejected[8].ShouldContain("longer than 31 days");
        rejected[9].ShouldContain("in the future");
        (await CountRecords()).ShouldBe(2);
    }

    [Fact]
    public async Task A_record_no_rate_applies_to_is_rejected_naming_chip_region_provider_and_time()
    {
        var reply = await Post(Record("early", start: "2024-12-31T00:00:00Z", end: "2024-12-31T01:00:00Z"));

        var error = reply.Json["rejected"]![0]!["errors"]![0]!.GetValue<string>();
        error.ShouldContain("'Trainium2'");
        error.ShouldContain("'us-east-1'");
        error.ShouldContain("'AWS'");
        error.ShouldContain("2024-12-31T00:00:00Z");
    }

    [Fact]
    public async Task A_commitments_negotiated_rate_beats_the_provider_card_from_its_effective_date()
    {
        var overrides = await Admin.PostJson("/api/commitments/amazon-anthropic/rates", new
        {
            effectiveFrom = "2025-08-01",
            rates = new[] { new { chip = "Trainium2", region = (string?)null, pricePerChipHour = Usd(3.00m) } },
        });
        overrides.Code.ShouldBe(201, overrides.ToString());

        await Post(Record("july", 1m, start: "2025-07-31T23:00:00Z", end: "2025-08-01T00:00:00Z"),
            Record("august", 1m, start: "2025-08-01T00:00:00Z", end: "2025-08-01T01:00:00Z"));

        (await Sql($"select string_agg(price::text, ',' order by start) from ({RecordsSql}) r")).ShouldBe("3.50,3.00");
    }

    [Fact]
    public async Task An_ingest_key_posting_for_another_provider_gets_403_and_nothing_is_stored()
    {
        var reply = await Post(Record("mine"), Record("theirs", provider: "Microsoft Azure"));

        reply.Code.ShouldBe(403);
        reply.ContentType.ShouldBe("application/problem+json");
        (await CountRecords()).ShouldBe(0);
        (await Analyst.PostJson("/api/usage", Batch(Record("x")))).Code.ShouldBe(403);
    }

    [Fact]
    public async Task Ndjson_batches_are_accepted_one_record_per_line()
    {
        var lines = string.Join("\n", new[] { Record("n-1"), Record("n-2"), Record("n-1") }.Select(r => System.Text.Json.JsonSerializer.Serialize(r)));
        using var content = new StringContent(lines + "\n", Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-ndjson");

        var response = await Ingest.PostAsync("/api/usage", content, TestContext.Current.CancellationToken);
        var body = System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken))!;

        ((int)response.StatusCode).ShouldBe(200, body.ToJsonString());
        body["accepted"]!.GetValue<int>().ShouldBe(2);
        body["duplicates"]!.GetValue<int>().ShouldBe(1);
    }

    [Fact]
    public async Task Malformed_bodies_are_400_and_oversized_batches_413_storing_nothing()
    {
        var malformed = await Ingest.PostJson("/api/usage", "{ \"records\": [ { \"usageId\": ");
        malformed.Code.ShouldBe(400);
        malformed.ContentType.ShouldBe("application/problem+json");

        (await Ingest.PostJson("/api/usage", "{ \"records\": [ { \"chipHours\": \"lots\" } ] }")).Code.ShouldBe(400);
        (await Ingest.PostJson("/api/usage", "[]")).Code.ShouldBe(400);

        var tooMany = await Post(Enumerable.Range(0, 10_001).Select(i => (object)Record($"big-{i}")).ToArray());
        tooMany.Code.ShouldBe(413, tooMany.ToString());
        tooMany.ContentType.ShouldBe("application/problem+json");

        var huge = "{ \"records\": [ " + string.Join(",", Enumerable.Repeat("{ \"usageId\": \"" + new string('x', 1000) + "\" }", 17_000)) + " ] }";
        (await Ingest.PostJson("/api/usage", huge)).Code.ShouldBe(413);

        (await CountRecords()).ShouldBe(0);
    }

    [Fact]
    public async Task A_batch_whose_write_failed_is_accepted_whole_when_retried()
    {
        // Make the event append fail inside the transaction, after the usage ids were claimed, with an error a retry can cure
        // (a serialization failure): only such a transient failure is a 503.
        await Sql("""
            create or replace function ledger.fail_usage_write() returns trigger language plpgsql as $$
            begin raise exception using errcode = 'serialization_failure', message = 'injected failure of the batch holding boom'; end $$;
            create trigger fail_usage_write before insert on ledger.mt_events for each row
                when (new.data->>'records' like '%boom%') execute function ledger.fail_usage_write();
            """);
        try
        {
            var failed = await Post(Record("fine-1"), Record("boom"), Record("fine-2"));
            failed.Code.ShouldBe(503, failed.ToString());
            (await CountRecords()).ShouldBe(0);
            (await Sql("select count(*) from ledger.usage_claims")).ShouldBe(0L);
        }
        finally
        {
            await Sql("drop trigger fail_usage_write on ledger.mt_events; drop function ledger.fail_usage_write();");
        }

        var retry = await Post(Record("fine-1"), Record("boom"), Record("fine-2"));

        retry.Json["accepted"]!.GetValue<int>().ShouldBe(3, retry.ToString());
        retry.Json["duplicates"]!.GetValue<int>().ShouldBe(0);
        (await CountRecords()).ShouldBe(3);
    }

    [Fact]
    public async Task Concurrent_batches_sharing_usage_ids_store_each_record_once()
    {
        var batches = Enumerable.Range(0, 6).Select(b =>
            Enumerable.Range(0, 200).Select(i => (object)Record($"shared-{(b * 50) + i}", 1m)).ToArray()).ToArray();

        var replies = await Task.WhenAll(batches.Select(records => Fixture.Client("dev-ingest").PostJson("/api/usage", Batch(records))));

        replies.ShouldAllBe(r => r.Code == 200);
        var distinct = batches.SelectMany(b => b).Select(r => ((Dictionary<string, object?>)r)["usageId"]).Distinct().Count();
        replies.Sum(r => r.Json["accepted"]!.GetValue<int>()).ShouldBe(distinct);
        replies.Sum(r => r.Json["accepted"]!.GetValue<int>() + r.Json["duplicates"]!.GetValue<int>()).ShouldBe(1200);
        (await CountRecords()).ShouldBe(distinct);
    }
}
