using System.Diagnostics;
using System.Globalization;
using Alba;
using ComputeLedger.Host.Tests.Infrastructure;
using ComputeLedger.Host.Tests.Usage;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Trace;
using Shouldly;

namespace ComputeLedger.Host.Tests.Operations;

/// <summary>The ledger's metrics, read the way Prometheus reads them: GET /metrics, no API key.</summary>
public sealed class Metrics_move_with_ingestion(LedgerFixture fixture) : UsageTest(fixture)
{
    private const string Records = "ledger_usage_records_total";

    [Fact]
    public async Task Accepted_duplicate_and_rejected_records_are_counted_by_provider_and_reason()
    {
        var before = await Scrape();
        var first = await Post(Record("m-1"), Record("m-2"), Record("m-3", chip: "H100"));
        first.Code.ShouldBe(200, first.ToString());
        var second = await Post(Record("m-1"), Record("m-4", commitmentId: "nobody"), Record("m-5", chipHours: -1m));
        second.Code.ShouldBe(200, second.ToString());
        var after = await Scrape();

        Delta(before, after, Records, "ledger_usage_outcome=\"accepted\"", "ledger_provider=\"AWS\"").ShouldBe(2);
        Delta(before, after, Records, "ledger_usage_outcome=\"duplicate\"", "ledger_provider=\"AWS\"").ShouldBe(1);
        Delta(before, after, Records, "ledger_usage_outcome=\"rejected\"", "ledger_usage_reject_reason=\"commitment\"").ShouldBe(2);
        Delta(before, after, Records, "ledger_usage_outcome=\"rejected\"", "ledger_usage_reject_reason=\"invalid\"").ShouldBe(1);
        Delta(before, after, "ledger_usage_batch_duration_seconds_count").ShouldBe(2);
        // ASP.NET Core's own http.server.* instruments are not asserted here: every web host in this process (the webhook
        // receivers of other tests) creates a meter of the same name, the SDK merges them into one stream, and the first
        // receiver disposed ends it for the shared host too. The process-wide meters (Npgsql, runtime, HttpClient) stay.
        after.Keys.ShouldContain(k => k.StartsWith("db_client_operation_duration_seconds", StringComparison.Ordinal) || k.StartsWith("db_client_commands", StringComparison.Ordinal));
        after.Keys.ShouldContain(k => k.StartsWith("dotnet_gc_", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_gauges_sample_each_async_projection_and_the_message_store()
    {
        (await Post(Record("g-1"))).Code.ShouldBe(200);
        await CatchUp();
        var services = Fixture.Host.Services;
        using var gauges = new ComputeLedger.Host.Infrastructure.Telemetry.LedgerGauges(Fixture.Store,
            services.GetRequiredService<Wolverine.Runtime.IWolverineRuntime>(), services.GetRequiredService<Microsoft.Extensions.Configuration.IConfiguration>(),
            TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger<ComputeLedger.Host.Infrastructure.Telemetry.LedgerGauges>.Instance);

        var sample = await gauges.Read(TestContext.Current.CancellationToken);

        sample.Projections.Select(p => p.Name).ShouldContain("ChipSpend");
        sample.Projections.Single(p => p.Name == "ChipSpend").ShouldSatisfyAllConditions(
            p => p.EventsBehind.ShouldBe(0), p => p.SecondsBehind.ShouldBe(0), p => p.LastSequence.ShouldBeGreaterThan(0));
        sample.DeadLetters.ShouldBe(0);
        sample.Outbox.ShouldBeGreaterThanOrEqualTo(0);
        sample.Queues.Select(q => q.Name).ShouldContain("inbox");
    }

    [Fact]
    public async Task The_scrape_needs_no_api_key_and_describes_each_ledger_metric()
    {
        var response = await Anonymous.GetAsync("/metrics", TestContext.Current.CancellationToken);
        response.IsSuccessStatusCode.ShouldBeTrue();
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        text.ShouldContain("# HELP ledger_usage_records_total Usage records posted");
        text.ShouldContain("# TYPE ledger_usage_batch_duration_seconds histogram");
    }

    private async Task<Dictionary<string, double>> Scrape()
    {
        var text = await Anonymous.GetStringAsync("/metrics", TestContext.Current.CancellationToken);
        var series = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            // name{labels} value [timestamp]
            var end = line.LastIndexOf('}') is var brace and >= 0 ? brace + 1 : line.IndexOf(' ', StringComparison.Ordinal);
            var rest = line[end..].Trim().Split(' ');
            series[line[..end]] = double.Parse(rest[0], CultureInfo.InvariantCulture);
        }

        return series;
    }

    private static double Delta(Dictionary<string, double> before, Dictionary<string, double> after, string name, params string[] labels)
    {
        double Sum(Dictionary<string, double> s) => s.Where(kv => (kv.Key == name || kv.Key.StartsWith(name + "{", StringComparison.Ordinal))
                                                                   && labels.All(l => kv.Key.Contains(l, StringComparison.Ordinal))).Sum(kv => kv.Value);
        return Sum(after) - Sum(before);
    }
}

/// <summary>Traces of the shared host, caught by a processor on its own tracer provider (<see cref="TraceCollector"/>).</summary>
public sealed class Tracing_an_ingest_request(LedgerFixture fixture) : UsageTest(fixture)
{
    [Fact]
    public async Task One_trace_holds_the_request_and_its_database_commands_under_the_callers_traceparent()
    {
        var admin = Admin;
        var traceId = ActivityTraceId.CreateRandom();
        Fixture.Traces.Watch(traceId);
        var parent = ActivitySpanId.CreateRandom();
        var reply = await admin.PostJson("/api/usage", UsageTest.Batch(UsageTest.Record("t-1")),
            new Dictionary<string, string> { ["traceparent"] = $"00-{traceId}-{parent}-01" });
        reply.Code.ShouldBe(200, reply.ToString());
        reply.Json["accepted"]!.GetValue<int>().ShouldBe(1);

        var spans = await SpansOf(traceId, s => s.Any(a => a.Kind == ActivityKind.Server) && s.Any(a => a.Source.Name == "Npgsql"));
        var server = spans.Single(a => a.Kind == ActivityKind.Server);
        server.ParentSpanId.ShouldBe(parent);
        server.GetTagItem("url.path").ShouldBe("/api/usage");
        var db = spans.Where(a => a.Source.Name == "Npgsql").ToList();
        db.ShouldNotBeEmpty();
        db.ShouldContain(a => (a.GetTagItem("db.query.text") ?? a.GetTagItem("db.statement") ?? "").ToString()!.Contains("usage_claims", StringComparison.Ordinal));
        db.ShouldAllBe(a => a.TraceId == traceId);
    }

    [Fact]
    public async Task The_trace_of_an_ingest_that_achieves_a_milestone_runs_on_to_the_webhook_post_it_causes()
    {
        var admin = Admin;
        var deal = LedgerTest.Deal("traced");
        deal["milestones"] = new object[]
        {
            new { milestoneId = "training-scale", description = "10 chip-hours", kind = "consumption", threshold = new { chipHours = 10m } },
        };
        deal["tranches"] = new object[] { new { trancheId = "t1", amount = LedgerTest.Usd(20_000_000_000m), milestones = new[] { "training-scale" } } };
        deal["computeCommitment"] = new { provider = "AWS", chips = new[] { "Trainium2" }, committedSpend = LedgerTest.Usd(1_000_000m), termStart = "2025-01-01", termEnd = "2027-01-01" };
        (await admin.PostJson("/api/commitments", deal)).Code.ShouldBe(201);
        await using var receiver = await Integration.Receiver.Start(_ => Task.FromResult(200));
        (await admin.PostJson("/api/webhooks", new { url = receiver.Url, eventTypes = new[] { "MilestoneAchieved" }, secret = "a-test-secret-of-some-length" })).Code.ShouldBe(201);

        var traceId = ActivityTraceId.CreateRandom();
        Fixture.Traces.Watch(traceId);
        var reply = await admin.PostJson("/api/usage", UsageTest.Batch(UsageTest.Record("big", 12m, commitmentId: "traced")),
            new Dictionary<string, string> { ["traceparent"] = $"00-{traceId}-{ActivitySpanId.CreateRandom()}-01" });
        reply.Json["accepted"]!.GetValue<int>().ShouldBe(1, reply.ToString());

        var delivered = await receiver.WaitFor(r => r.Count >= 1);
        delivered[0].Traceparent.ShouldNotBeNull().ShouldContain(traceId.ToString());
        var spans = await SpansOf(traceId, s => s.Any(a => a.Kind == ActivityKind.Client && a.Source.Name == "System.Net.Http"));
        spans.ShouldContain(a => a.Kind == ActivityKind.Server);
        spans.ShouldContain(a => a.Source.Name == "Wolverine");
        spans.ShouldContain(a => a.Kind == ActivityKind.Client && a.Source.Name == "System.Net.Http"
                                 && (a.GetTagItem("url.full") ?? "").ToString()!.StartsWith(receiver.Url, StringComparison.Ordinal));
    }

    private async Task<List<Activity>> SpansOf(ActivityTraceId traceId, Func<List<Activity>, bool> complete)
    {
        var provider = Fixture.Host.Services.GetRequiredService<TracerProvider>();
        var waited = Stopwatch.StartNew();
        while (true)
        {
            provider.ForceFlush();
            var spans = Fixture.Traces.Spans(traceId);

            // The server span ends just after the response is handed over, so it may land a moment after the reply.
            if (complete(spans) || waited.Elapsed > TimeSpan.FromSeconds(30))
            {
                return spans;
            }

            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }
}
