// Over 200 lines: one runner for every hostile input group, with the checks each answer must pass (no 5xx, nothing
// stored, the field named).
using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Alba;
using ComputeLedger.Host.Tests.Infrastructure;
using Marten;
using Marten.Events;
using Npgsql;
using Shouldly;

namespace ComputeLedger.Host.Tests.Hostile;

/// <summary>
/// Issue 10 §5: generated hostile inputs, one group of endpoints per row, each on a freshly seeded ledger. Every input
/// must get the answer its endpoint's contract allows (the table below), never a 5xx, and store nothing: the event,
/// claim and webhook counts are checked after each input, the views and reconciliation after the group. All failures of
/// a group are listed at once, each with its request and answer.
/// </summary>
/// <remarks>
/// Contract per endpoint (README and issue 10 §1):
/// <code>
/// endpoint                                   | answer to a hostile input
/// -------------------------------------------+-------------------------------------------------------------------
/// POST /api/commitments, …/sign, …/decline,  | 4xx application/problem+json; a 400 has `errors` (an object with at
///   …/achieve, …/revoke, …/release,          |   least one key) naming the field, and no .NET type name anywhere
///   /api/chips, /api/providers/{p}/rates,    |   (System., NodaTime., Nullable`)
///   /api/commitments/{id}/rates,             |
///   /api/usage/{id}/void|correct, webhooks   |
/// POST /api/usage (JSON and NDJSON)          | bad records: 200 { accepted: 0, duplicates: 0, rejected: one per
///                                            |   record }; bad batch (shape, media type, size): 4xx as above
/// GET every read (asOf, knownAt, from, to,   | no 5xx; 200 allowed (a value a date type holds gets an answer);
///   knownFrom, knownTo, path ids)            |   a 400 is a problem naming the parameter
/// POST the seed's rate card again            | anything but a 5xx, and nothing stored
/// </code>
/// A NUL in a URL path is not sent: the in-process client refuses it, and Kestrel answers 400 before the endpoints.
/// </remarks>
public sealed class Hostile_input_never_hurts_the_ledger(LedgerFixture shared, HostileLedger ledger) : IClassFixture<HostileLedger>
{
    public static TheoryData<string> Groups => [.. HostileInputs.Groups];

    private static readonly string[] TypeNames = ["System.", "NodaTime.", "Nullable`", "ComputeLedger."];

    [Theory]
    [MemberData(nameof(Groups))]
    public async Task Every_input_is_refused_and_nothing_is_stored(string group)
    {
        var ct = TestContext.Current.CancellationToken;
        var host = await ledger.Host(shared);
        using var admin = Client(host, "dev-admin");
        using var client = host.Server.CreateClient();
        var failures = new List<string>();

        // First the unmutated bodies, which must be accepted, so each refusal below is the mutation's doing. They
        // store, so the ledger is seeded afresh for the hostile inputs.
        await Reset(host, ct);
        await Seed(host, admin, ct);
        foreach (var control in HostileInputs.Controls(group))
        {
            var (status, mediaType, text) = await Send(client, control, ct);
            foreach (var problem in Judge(control, status, mediaType, text))
            {
                failures.Add($"CONTROL {status}: {problem} | {control.Describe()} | answer: {HostileCase.Show(text, 300)}");
            }
        }

        await Reset(host, ct);
        var webhookId = await Seed(host, admin, ct);
        var mishandled = new List<(string Answer, string Kind)>();
        var before = await Snapshot(host, admin, failures, ct);
        before.ShouldNotBeNull($"the seeded ledger is not healthy: {string.Join("; ", failures)}");
        failures.ShouldBeEmpty();

        await using var db = new NpgsqlConnection(ledger.ConnectionString);
        await db.OpenAsync(ct);
        var counts = await Counts(db, ct);
        var cases = HostileInputs.For(group, webhookId);
        var clock = Stopwatch.StartNew();
        foreach (var input in cases)
        {
            var (status, mediaType, text) = await Send(client, input, ct);
            var problems = Judge(input, status, mediaType, text);
            var now = await Counts(db, ct);
            if (now != counts)
            {
                problems.Add($"stored: events {now.Events - counts.Events:+#;-#;0}, claims {now.Claims - counts.Claims:+#;-#;0}, webhooks {now.Webhooks - counts.Webhooks:+#;-#;0}");
                counts = now;
            }

            if (problems.Count > 0)
            {
                failures.Add($"{status}: {string.Join("; ", problems)} | {input.Describe()} | answer: {HostileCase.Show(text, 300)}");
                mishandled.Add(($"{input.Method} {Route(input.Path)} → {status}: {string.Join("; ", problems.Select(p => p.StartsWith("stored", StringComparison.Ordinal) ? "stored" : p))}", input.Kind));
            }
        }

        var sent = clock.Elapsed;
        var after = await Snapshot(host, admin, failures, ct);
        if (after is null)
        {
            ledger.Hurt = true;
        }
        else
        {
            foreach (var (view, json) in before)
            {
                if (after.GetValueOrDefault(view) != json)
                {
                    failures.Add($"after the group, {view} changed: before {HostileCase.Show(json, 400)} after {HostileCase.Show(after.GetValueOrDefault(view) ?? "<none>", 400)}");
                }
            }
        }

        TestContext.Current.TestOutputHelper?.WriteLine($"{group}: {cases.Count} inputs in {sent.TotalSeconds:F1} s, {failures.Count} failures");
        if (failures.Count > 0)
        {
            // The summary first (one line per endpoint and kind of answer, with the inputs that got it), then every case.
            var summary = mishandled.GroupBy(m => m.Answer).OrderBy(g => g.Key, StringComparer.Ordinal)
                .Select(g => $"  {g.Count(),4} × {g.Key} ← {string.Join(", ", g.Select(m => m.Kind).Distinct().Take(15))}{(g.Select(m => m.Kind).Distinct().Count() > 15 ? ", …" : "")}");
            Assert.Fail($"{group}: {failures.Count} of {cases.Count} hostile inputs were mishandled (seed {HostileInputs.Seed}).\nSummary:\n"
                + string.Join("\n", summary) + "\nEvery case:\n" + string.Join("\n", failures));
        }
    }

    /// <summary>The path cut to its route, so the summary groups one endpoint's answers together.</summary>
    private static string Route(string path)
    {
        var route = path.Split('?')[0];
        return route.Length > 80 ? route[..80] + "…" : HostileCase.Show(route, 80);
    }

    private static async Task<(int Status, string? MediaType, string Text)> Send(HttpClient client, HostileCase input, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        try
        {
            using var request = input.ToRequest();
            using var response = await client.SendAsync(request, timeout.Token);
            return ((int)response.StatusCode, response.Content.Headers.ContentType?.MediaType, await response.Content.ReadAsStringAsync(timeout.Token));
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return (0, null, "no answer within 30 s");
        }
#pragma warning disable CA1031 // An exception escaping the server is what this suite looks for: it is reported, not rethrown.
        catch (Exception e)
#pragma warning restore CA1031
        {
            return (500, null, $"exception escaped the server: {e.GetType().Name}: {e.Message}");
        }
    }

    /// <summary>What is wrong with one answer, in the words of the failure list; empty when the contract holds.</summary>
    public static List<string> Judge(HostileCase input, int status, string? mediaType, string text)
    {
        var problems = new List<string>();
        if (status is 0 or >= 500)
        {
            problems.Add(status == 0 ? "no answer" : "5xx");
            return problems;
        }

        if (TypeNames.FirstOrDefault(t => text.Contains(t, StringComparison.Ordinal)) is { } typeName)
        {
            problems.Add($".NET type name ('{typeName}') in the answer");
        }

        var json = Parse(text);
        switch (input.Expect)
        {
            case Expect.Refused when status is < 400 or >= 500:
                problems.Add($"accepted ({status}), expected a 4xx");
                break;
            case Expect.Refused:
                ProblemShape(input, status, mediaType, json, problems, parameter: false);
                break;
            case Expect.RefusedOrRejected when status == 200:
                var accepted = json?["accepted"]?.GetValue<int>();
                var rejected = json?["rejected"] as JsonArray;
                if (accepted != 0 || rejected?.Count != input.Records)
                {
                    problems.Add($"usage answer accepted {accepted?.ToString() ?? "?"} and rejected {rejected?.Count.ToString() ?? "?"} of {input.Records} records, expected all rejected");
                }

                break;
            case Expect.RefusedOrRejected when status is >= 400 and < 500:
                ProblemShape(input, status, mediaType, json, problems, parameter: false);
                break;
            case Expect.RefusedOrRejected:
                problems.Add($"answered {status}, expected 200 with every record rejected, or a 4xx");
                break;
            case Expect.AnswersOrNamesParameter when status is >= 400 and < 500:
                ProblemShape(input, status, mediaType, json, problems, parameter: true);
                break;
            case Expect.Accepted when status is < 200 or >= 300:
                problems.Add($"the unmutated body was refused ({status}), so the refusals of its mutations prove nothing");
                break;
            case Expect.Accepted when input.Records > 0 && AcceptedRecords(json) != input.Records:
                problems.Add("the unmutated usage was not accepted, so the rejections of its mutations prove nothing");
                break;
            case Expect.AnswersOrNamesParameter:
            case Expect.NotStored:
            case Expect.Accepted:
                break;
        }

        return problems;
    }

    private static int? AcceptedRecords(JsonNode? json) => json?["accepted"]?.GetValue<int>();

    private static void ProblemShape(HostileCase input, int status, string? mediaType, JsonNode? json, List<string> problems, bool parameter)
    {
        if (mediaType != "application/problem+json")
        {
            problems.Add($"{status} as {mediaType ?? "no content type"}, not application/problem+json");
            return;
        }

        if (status != 400)
        {
            return;
        }

        var errors = json?["errors"] as JsonObject;
        var detail = json?["detail"]?.ToString() ?? "";
        if (!parameter && errors is not { Count: > 0 })
        {
            problems.Add("400 without errors naming the fields");
            return;
        }

        if (input.Field is not { } field)
        {
            return;
        }

        var named = errors is not null && errors.Any(e => e.Key.Contains(field, StringComparison.OrdinalIgnoreCase)
            || (e.Value?.ToJsonString().Contains(field, StringComparison.OrdinalIgnoreCase) ?? false));
        if (!named && !(parameter && detail.Contains(field, StringComparison.OrdinalIgnoreCase)))
        {
            problems.Add($"400 does not name '{field}' (errors: {string.Join(", ", errors?.Select(e => e.Key) ?? ["none"])})");
        }
    }

    private static JsonNode? Parse(string text)
    {
        try
        {
            return string.IsNullOrWhiteSpace(text) ? null : JsonNode.Parse(text);
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    private static HttpClient Client(IAlbaHost host, string key)
    {
        var client = host.Server.CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", key);
        return client;
    }

    private async Task Reset(IAlbaHost host, CancellationToken ct)
    {
        await host.ResetAllMartenDataAsync();
        await using var db = new NpgsqlConnection(ledger.ConnectionString);
        await db.OpenAsync(ct);
        await using var truncate = new NpgsqlCommand("""
            truncate ledger.usage_claims, ledger.usage_buckets;
            do $$ declare t record; begin
              for t in select schemaname, tablename from pg_tables where schemaname = 'wolverine_queues' loop
                execute format('truncate %I.%I', t.schemaname, t.tablename);
              end loop;
            end $$
            """, db);
        await truncate.ExecuteNonQueryAsync(ct);
    }

    /// <summary>A small valid ledger, through the API: a signed deal with an eligible tranche, an offer, a rate card, usage, a webhook.</summary>
    private static async Task<string> Seed(IAlbaHost host, HttpClient admin, CancellationToken ct)
    {
        var deal = LedgerTest.Deal(HostileInputs.Deal);
        deal["computeCommitment"] = new
        {
            provider = "AWS",
            chips = new[] { "Trainium2", "Inferentia2" },
            committedSpend = LedgerTest.Usd(1_000_000m),
            termStart = "2025-01-01",
            termEnd = "2027-01-01",
        };
        await Expect201(admin.PostJson("/api/commitments", deal));
        await Expect201(admin.PostJson("/api/commitments", LedgerTest.Deal(HostileInputs.Offer, "Offered")));
        await Expect201(admin.PostJson("/api/commitments", LedgerTest.Deal(HostileInputs.SecondOffer, "Offered")));
        await Expect201(admin.PostJson("/api/providers/AWS/rates", HostileInputs.SeedRates));
        (await admin.PostJson($"/api/commitments/{HostileInputs.Deal}/milestones/{HostileInputs.Achieved}/achieve",
            new { achievedOn = "2025-06-30", evidence = "model card" })).Code.ShouldBe(200);

        using var ingest = Client(host, "dev-ingest");
        var records = Enumerable.Range(1, 3).Select(i => HostileInputs.ValidRecord($"seed-{i}")).ToArray();
        var usage = await ingest.PostJson("/api/usage", new JsonObject { ["records"] = new JsonArray(records) }.ToJsonString());
        usage.Json["accepted"]!.GetValue<int>().ShouldBe(3, usage.ToString());

        var webhook = await admin.PostJson("/api/webhooks", new { url = "http://127.0.0.1:9/ledger", eventTypes = new[] { "CommitmentDeclined" }, secret = "treasury-hook-secret-1234" });
        webhook.Code.ShouldBe(201, webhook.ToString());
        await host.WaitForNonStaleProjectionDataAsync(TimeSpan.FromSeconds(30));
        return webhook.Json["id"]!.GetValue<string>();

        static async Task Expect201(Task<Http.Reply> reply)
        {
            var r = await reply;
            r.Code.ShouldBe(201, r.ToString());
        }
    }

    private sealed record Count(long Events, long Claims, long Webhooks);

    private static async Task<Count> Counts(NpgsqlConnection db, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(
            "select (select count(*) from ledger.mt_events), (select count(*) from ledger.usage_claims), (select count(*) from ledger.mt_doc_webhook)", db);
        await using var reader = await command.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return new Count(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
    }

    /// <summary>
    /// The views a hostile input could move, once the projections caught up; null when they cannot catch up or
    /// reconciliation is not balanced (the failure says which).
    /// </summary>
    private static async Task<Dictionary<string, string>?> Snapshot(IAlbaHost host, HttpClient admin, List<string> failures, CancellationToken ct)
    {
        try
        {
            await host.WaitForNonStaleProjectionDataAsync(TimeSpan.FromSeconds(10));
        }
        catch (TimeoutException e)
        {
            failures.Add($"LEDGER HURT: the async projections did not catch up within 10 s ({e.Message})");
            return null;
        }

        var views = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var path in new[]
                 {
                     "/api/reconciliation", "/api/commitments", "/api/chips", "/api/webhooks", "/api/providers/AWS/rates",
                     "/api/spend/chips?from=2000-01&to=2100-12", "/api/revenue/providers", $"/api/commitments/{HostileInputs.Deal}/eligibility",
                     "/api/deals", "/api/economics/chips", "/api/revenue/providers/yearly",
                 })
        {
            var reply = await admin.GetJson(path);
            if (reply.Code != 200)
            {
                failures.Add($"LEDGER HURT: GET {path} answers {reply}");
                return null;
            }

            var json = reply.Json;
            if (json is JsonObject o)
            {
                o.Remove("lag");
            }

            views[path] = json.ToJsonString();
        }

        var reconciliation = JsonNode.Parse(views["/api/reconciliation"])!;
        if (reconciliation["balanced"]?.GetValue<bool>() != true)
        {
            failures.Add($"LEDGER HURT: reconciliation is not balanced: {views["/api/reconciliation"]}");
            return null;
        }

        var drawdown = await admin.GetJson($"/api/commitments/{HostileInputs.Deal}/drawdown");
        if (drawdown.Code != 200)
        {
            failures.Add($"LEDGER HURT: GET drawdown answers {drawdown}");
            return null;
        }

        // The projected figures move with the clock; what was consumed must not.
        views["drawdown"] = new StringBuilder().Append(drawdown.Json["consumed"]?.ToJsonString()).Append(drawdown.Json["records"]?.ToJsonString()).ToString();
        return views;
    }
}
