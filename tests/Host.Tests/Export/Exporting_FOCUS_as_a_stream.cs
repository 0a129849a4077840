using System.Globalization;
using ComputeLedger.Host.Tests.Infrastructure;
using ComputeLedger.Host.Tests.Usage;
using Shouldly;

namespace ComputeLedger.Host.Tests.Export;

/// <summary>
/// The FOCUS export is written to the response as the events are read: the client reads it line by line while it
/// arrives, the rows still sum to the ledger's figures, and a bad parameter is still a 400 problem with no CSV in it.
/// </summary>
public class Exporting_FOCUS_as_a_stream(LedgerFixture fixture) : UsageTest(fixture)
{
    private static readonly DateTime First = new(2025, 6, 1, 0, 0, 0, DateTimeKind.Utc);

    /// <summary>Record i: ten minutes after record i - 1, on one of the three priced (chip, region) lines.</summary>
    private static (Dictionary<string, object?> Record, decimal Amount) Generated(int i)
    {
        var start = First.AddMinutes(10 * i);
        var hours = 0.4m + i % 7 * 0.2m;
        var (chip, region, price) = (i % 3) switch
        {
            0 => ("Trainium2", "us-east-1", 3.50m),
            1 => ("Trainium2", (string?)null, 4.00m),
            _ => ("Inferentia2", "us-east-1", 1.25m),
        };
        return (Record($"s-{i}", hours, chip, region, start.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            start.AddMinutes(10).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)), hours * price);
    }

    [Fact]
    public async Task A_range_of_batches_arrives_line_by_line_and_sums_to_the_figures()
    {
        // 12,000 records from June 1 to late August, in batches of the largest size the API takes, then a void in July.
        const int Records = 12_000;
        var generated = Enumerable.Range(0, Records).Select(Generated).ToList();
        foreach (var batch in generated.Chunk(10_000))
        {
            var reply = await Post([.. batch.Select(g => (object)g.Record)]);
            reply.Json["accepted"]!.GetValue<int>().ShouldBe(batch.Length, reply.ToString());
        }

        var july = generated.Where(g => g.Record["start"] is string s && s.StartsWith("2025-07", StringComparison.Ordinal)).ToList();
        var voided = july[100];
        (await Admin.PostJson($"/api/usage/{voided.Record["usageId"]}/void", new { reason = "meter fault" })).Code.ShouldBe(200);
        await CatchUp();

        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/export/focus.csv?from=2025-07-01&to=2025-07-31");
        using var response = await Analyst.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);
        response.StatusCode.ShouldBe(System.Net.HttpStatusCode.OK);
        response.Content.Headers.ContentType!.ToString().ShouldBe("text/csv; charset=utf-8");
        response.Content.Headers.ContentDisposition!.FileName.ShouldBe("focus-2025-07-01-2025-07-31.csv");
        // Written as it is produced, so its length is not known up front (a CSV rendered whole before answering has one).
        response.Content.Headers.ContentLength.ShouldBeNull();

        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(TestContext.Current.CancellationToken));
        var header = (await reader.ReadLineAsync(TestContext.Current.CancellationToken))!.Split(',');
        int Column(string name) => Array.IndexOf(header, name);
        var (billed, consumed, usageId, chargeClass) = (Column("BilledCost"), Column("ConsumedQuantity"), Column("x_UsageId"), Column("ChargeClass"));
        var (rows, cost, quantity, corrections) = (0, 0m, 0m, new List<string>());
        while (await reader.ReadLineAsync(TestContext.Current.CancellationToken) is { } line)
        {
            var fields = line.Split(',');
            fields.Length.ShouldBe(header.Length, line);
            rows++;
            cost += decimal.Parse(fields[billed], CultureInfo.InvariantCulture);
            quantity += decimal.Parse(fields[consumed], CultureInfo.InvariantCulture);
            if (fields[chargeClass] == "Correction")
            {
                corrections.Add(fields[usageId]);
            }
        }

        rows.ShouldBe(july.Count + 1);
        corrections.ShouldBe([(string)voided.Record["usageId"]!]);
        cost.ShouldBe(july.Sum(g => g.Amount) - voided.Amount);
        quantity.ShouldBe(july.Sum(g => (decimal)g.Record["chipHours"]!) - (decimal)voided.Record["chipHours"]!);

        var spend = await Analyst.GetJson("/api/spend/chips?from=2025-07&to=2025-07");
        cost.ShouldBe(spend.Json["rows"]!.AsArray().Sum(r => r!["spend"].Amount()));
    }

    [Fact]
    public async Task A_read_that_fails_after_the_first_rows_went_out_aborts_the_transfer_instead_of_ending_it_short()
    {
        // A full batch, then an event the export cannot read (stored bypassing the API, on the batch's stream), then more.
        (await Post([.. Enumerable.Range(0, 1_000).Select(i => (object)Generated(i).Record)])).Code.ShouldBe(200);
        await Sql("""
            insert into ledger.mt_events (seq_id, id, stream_id, version, data, type, tenant_id, timestamp, mt_dotnet_type, is_archived)
            select nextval('ledger.mt_events_sequence'), gen_random_uuid(), stream_id, version + 1, '{"records": 5}'::jsonb, type,
                   tenant_id, timestamp, mt_dotnet_type, false
            from ledger.mt_events where type = 'usage_recorded'
            """);
        (await Post([.. Enumerable.Range(1_000, 10).Select(i => (object)Generated(i).Record)])).Code.ShouldBe(200);

        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/export/focus.csv?from=2025-06-01&to=2025-06-30");
        using var response = await Analyst.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);
        // The first rows are out with a 200 before the broken event is read: the status can no longer say anything.
        response.StatusCode.ShouldBe(System.Net.HttpStatusCode.OK);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(TestContext.Current.CancellationToken));
        var lines = 0;
        var failed = await Should.ThrowAsync<Exception>(async () =>
        {
            while (await reader.ReadLineAsync(TestContext.Current.CancellationToken) is not null)
            {
                lines++;
            }
        });

        // The client sees a broken transfer, not a well-formed CSV short of the last batch.
        failed.ShouldNotBeOfType<ShouldAssertException>();
        lines.ShouldBeGreaterThan(1);
        lines.ShouldBeLessThan(1 + 1_010);
    }

    [Theory]
    [InlineData("from=2025-07-01&to=July", "to")]
    [InlineData("to=2025-07-31", "from")]
    [InlineData("from=2025-07-31&to=2025-07-01", "to")]
    [InlineData("from=2025-07-01&to=2025-07-31&asOf=yesterday", "asOf")]
    [InlineData("from=2025-07-01&to=2025-07-31&knownAt=2025-13-01", "knownAt")]
    public async Task A_bad_parameter_is_a_400_problem_and_no_csv(string query, string field)
    {
        (await Post(Record("one", 2m))).Code.ShouldBe(200);

        using var response = await Analyst.GetAsync($"/api/export/focus.csv?{query}", TestContext.Current.CancellationToken);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        response.StatusCode.ShouldBe(System.Net.HttpStatusCode.BadRequest, body);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        response.Content.Headers.ContentDisposition.ShouldBeNull();
        System.Text.Json.Nodes.JsonNode.Parse(body)!["errors"]!.AsObject().Select(e => e.Key).ShouldContain(field, body);
        body.ShouldNotContain("BilledCost");
    }
}
