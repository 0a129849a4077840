// Over 200 lines: a data file in code, the catalogue of hostile inputs per endpoint and parameter; its length is the
// number of cases.
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace ComputeLedger.Host.Tests.Hostile;

/// <summary>
/// The hostile inputs of issue 10 §5, generated from a fixed seed: mutations of a valid body for every write endpoint,
/// garbage in every query and path parameter, the transport-level mistakes, and every row of the issue's table.
/// Every input is outside the contract, so none may be stored. Bodies start valid, so a refusal is the mutation's doing.
/// </summary>
public static class HostileInputs
{
    public const int Seed = 20261130;

    /// <summary>The ids of the state <see cref="Hostile_input_never_hurts_the_ledger"/> seeds before each group.</summary>
    public const string Deal = "amazon-anthropic", Offer = "offer-1", Achieved = "trillion-param-model", Pending = "aws-throughput-target",
        Eligible = "t1", Usage = "seed-1", SecondOffer = "offer-2";

    public static readonly string[] Groups =
        ["reads", "commitments", "commitment-actions", "chips", "rates", "usage-json", "usage-ndjson", "usage-cloudevents", "corrections", "webhooks", "transport"];

    public static IReadOnlyList<HostileCase> For(string group, string webhookId)
    {
        // One generator per group, each from the fixed seed, so a group's inputs do not depend on the others.
        var random = new Random(Seed + Array.IndexOf(Groups, group));
        _usage = 0;
        return group switch
        {
            "reads" => Reads(random, webhookId).ToList(),
            "commitments" => Commitments(random).ToList(),
            "commitment-actions" => CommitmentActions(random).ToList(),
            "chips" => Chips(random).ToList(),
            "rates" => Rates(random).ToList(),
            "usage-json" => UsageJson(random).ToList(),
            "usage-ndjson" => UsageNdjson(random).ToList(),
            "usage-cloudevents" => UsageCloudEvents(random).ToList(),
            "corrections" => Corrections(random).ToList(),
            "webhooks" => Webhooks(random).ToList(),
            "transport" => Transport(random).ToList(),
            _ => throw new ArgumentOutOfRangeException(nameof(group), group, null),
        };
    }

    /// <summary>
    /// The unmutated bodies of a group, sent after its hostile inputs: each must be accepted, or the refusals above
    /// could be the base body's fault rather than the mutation's.
    /// </summary>
    public static IReadOnlyList<HostileCase> Controls(string group) => group switch
    {
        "reads" =>
        [
            .. new[]
            {
                "/api/commitments", $"/api/commitments/{Deal}/eligibility", "/api/spend/chips?from=2025-01&to=2025-12", "/api/revenue/providers?from=2025-01&to=2025-12",
                $"/api/commitments/{Deal}/drawdown", "/api/reconciliation", $"/api/explain/tranches/{Deal}/{Eligible}", "/api/explain/spend/AWS/Trainium2/2025-07",
                "/api/explain/revenue/AWS/2025-07", "/api/economics/chips?from=2025-01&to=2025-12&provider=AWS", "/api/deals",
                "/api/revenue/providers/yearly?from=2024&to=2026&provider=AWS",
            }.Select(p => new HostileCase("control", "GET", $"{p}{(p.Contains('?', StringComparison.Ordinal) ? '&' : '?')}asOf=2025-12-31&knownAt=2100-01-01", null, Analyst, Expect.Accepted)),
            new HostileCase("control", "GET", "/api/restatements?knownFrom=2025-01-01&knownTo=2100-01-01", null, Analyst, Expect.Accepted),
            new HostileCase("control", "GET", "/api/explain/spend/AWS/Trainium2/2025-07?limit=1000&asOf=2025-12-31T12:00:00Z", null, Analyst, Expect.Accepted),
            new HostileCase("control", "GET", "/api/explain/revenue/AWS/2025-07?limit=1&knownAt=2100-01-01T00:00:00Z", null, Analyst, Expect.Accepted),
            new HostileCase("control", "GET", "/api/export/focus.csv?from=2025-07-01&to=2025-07-31&asOf=2025-12-31", null, Analyst, Expect.Accepted),
            new HostileCase("control", "GET", "/api/export/contract-commitments.csv?from=2025-07-01&to=2025-07-31&asOf=2025-12-31", null, Analyst, Expect.Accepted),
        ],
        "commitments" => [new("control", "POST", "/api/commitments", ValidDeal("control-deal").ToJsonString(), Admin, Expect.Accepted)],
        "commitment-actions" or "transport" =>
        [
            new("control", "POST", $"/api/commitments/{Offer}/sign", """{ "signedOn": "2025-02-01" }""", Admin, Expect.Accepted),
            new("control", "POST", $"/api/commitments/{SecondOffer}/decline", """{ "reason": "went elsewhere" }""", Admin, Expect.Accepted),
            new("control", "POST", $"/api/commitments/{Deal}/milestones/{Pending}/achieve", AchieveBody, Admin, Expect.Accepted),
            new("control", "POST", $"/api/commitments/{Deal}/tranches/{Eligible}/release", """{ "releasedOn": "2025-07-15" }""", Admin, Expect.Accepted),
            new("control", "POST", $"/api/commitments/{Deal}/milestones/{Achieved}/revoke", """{ "reason": "paper retracted" }""", Admin, Expect.Accepted),
        ],
        "chips" =>
        [
            new("control", "POST", "/api/chips", """{ "name": "HX-control", "vendor": "NVIDIA", "purpose": "training", "description": "a chip" }""", Admin, Expect.Accepted),
            new("control", "POST", "/api/chips/Trainium2/specs", SpecsBody, Admin, Expect.Accepted),
        ],
        "rates" =>
        [
            new("control", "POST", "/api/providers/AWS/rates", RatesBody, Admin, Expect.Accepted),
            new("control", "POST", $"/api/commitments/{Deal}/rates", RatesBody, Admin, Expect.Accepted),
        ],
        "usage-json" => [new("control", "POST", "/api/usage", new JsonObject { ["records"] = new JsonArray(ValidRecord("control-1")) }.ToJsonString(), IngestKey, Expect.Accepted, Records: 1)],
        "usage-ndjson" => [new("control", "POST", "/api/usage", ValidRecord("control-1").ToJsonString() + "\n", IngestKey, Expect.Accepted, null, "application/x-ndjson", 1)],
        "usage-cloudevents" =>
        [
            new("control", "POST", "/api/usage", new JsonArray(AsCloudEvent(ValidRecord("control-1"))).ToJsonString(), IngestKey, Expect.Accepted, null, CloudEventsBatch, 1),
            new("control", "POST", "/api/usage", AsCloudEvent(ValidRecord("control-2"))!.ToJsonString(), IngestKey, Expect.Accepted, null, "application/cloudevents+json", 1),
        ],
        "corrections" =>
        [
            new("control", "POST", "/api/usage/seed-2/correct", CorrectBody, Admin, Expect.Accepted),
            new("control", "POST", "/api/usage/seed-3/void", """{ "reason": "duplicate meter" }""", Admin, Expect.Accepted),
        ],
        "webhooks" => [new("control", "POST", "/api/webhooks", WebhookBody, Admin, Expect.Accepted)],
        _ => throw new ArgumentOutOfRangeException(nameof(group), group, null),
    };

    private const string RatesBody = """
        { "effectiveFrom": "2026-01-01", "rates": [ { "chip": "Trainium2", "region": "us-east-1", "pricePerChipHour": { "amount": 3.75, "currency": "USD" } } ] }
        """;

    private const string CorrectBody = """{ "chipHours": 1.5, "start": "2025-07-01T00:00:00Z", "end": "2025-07-01T01:00:00Z", "tokens": 900, "reason": "meter reset" }""";

    private const string WebhookBody = """{ "url": "http://127.0.0.1:9/ledger", "eventTypes": [ "TrancheBecameEligible" ], "secret": "treasury-hook-secret-1234" }""";

    private const string Admin = "dev-admin", Analyst = "dev-analyst", IngestKey = "dev-ingest";
    private const string DecimalMax = "79228162514264337593543950335";

    // ---------- values ----------

    /// <summary>A control character other than tab and newline (which free text may keep), chosen by the seed.</summary>
    private static char Control(Random r)
    {
        char[] controls = [.. Enumerable.Range(0, 32).Where(c => c is not ('\t' or '\n' or '\r')).Select(c => (char)c), '\u007f'];
        return controls[r.Next(controls.Length)];
    }

    private static string Long(int length, Random r) =>
        string.Concat(Enumerable.Range(0, length).Select(_ => (char)('a' + r.Next(26))));

    private static string WithInside(string text, string inside, Random r)
    {
        var at = r.Next(text.Length + 1);
        return text[..at] + inside + text[at..];
    }

    private static IEnumerable<(string Kind, string Json)> WrongTypes(string what) =>
    [
        ($"{what} of the wrong type (number)", "42"),
        ($"{what} of the wrong type (boolean)", "true"),
        ($"{what} of the wrong type (object)", "{}"),
        ($"{what} of the wrong type (array)", "[\"a\"]"),
    ];

    /// <summary>Ids: at most 128 characters from a documented set, no control characters.</summary>
    private static IEnumerable<(string Kind, string Json)> BadIds(string what, Random r, bool required = true)
    {
        var valid = "id-" + r.Next(1000, 9999).ToString(CultureInfo.InvariantCulture);
        if (required)
        {
            yield return ($"empty {what}", "\"\"");
            yield return ($"blank {what}", "\"   \"");
        }

        yield return ($"NUL in {what}", J.Str(WithInside(valid, "\u0000", r)));
        yield return ($"control character in {what}", J.Str(WithInside(valid, Control(r).ToString(), r)));
        yield return ($"129-character {what}", J.Str(Long(129, r)));
        yield return ($"3,000-character {what}", J.Str(Long(3000, r)));
        foreach (var wrong in WrongTypes(what))
        {
            yield return wrong;
        }
    }

    /// <summary>Free text: at most 2,000 characters, no control characters but tab and newline.</summary>
    private static IEnumerable<(string Kind, string Json)> BadText(string what, Random r, bool required)
    {
        if (required)
        {
            yield return ($"empty {what}", "\"\"");
        }

        yield return ($"NUL in {what}", J.Str(WithInside("some words", "\u0000", r)));
        yield return ($"control character in {what}", J.Str(WithInside("some words", Control(r).ToString(), r)));
        yield return ($"2,001-character {what}", J.Str(Long(2001, r)));
        yield return ($"3,000-character {what}", J.Str(Long(3000, r)));
        yield return ($"{what} of the wrong type (number)", "42");
        yield return ($"{what} of the wrong type (object)", "{}");
    }

    /// <summary>Business dates: ISO yyyy-MM-dd between 2000-01-01 and 2100-12-31.</summary>
    private static IEnumerable<(string Kind, string Json)> BadDates(string what) =>
    [
        ($"{what} in the wrong format (dd/MM/yyyy)", "\"15/01/2025\""),
        ($"{what} that is not a date", "\"lots\""),
        ($"{what} with month 13", "\"2025-13-01\""),
        ($"{what} February 30", "\"2025-02-30\""),
        ($"{what} before 2000", "\"1999-12-31\""),
        ($"{what} after 2100", "\"2101-01-01\""),
        ($"{what} 9999-12-31", "\"9999-12-31\""),
        ($"{what} -0001-01-01", "\"-0001-01-01\""),
        ($"{what} as an instant", "\"2025-01-15T00:00:00Z\""),
        ($"{what} as a number", "20250115"),
        ($"{what} as an object", "{}"),
    ];

    /// <summary>Instants of a usage window: ISO-8601, inside the business range.</summary>
    private static IEnumerable<(string Kind, string Json)> BadInstants(string what) =>
    [
        ($"{what} in the wrong format (dd/MM/yyyy)", "\"15/01/2025\""),
        ($"{what} that is not an instant", "\"lots\""),
        ($"{what} as a date without time", "\"2025-07-01\""),
        ($"{what} hour 25", "\"2025-07-01T25:00:00Z\""),
        ($"{what} before 2000", "\"1999-12-31T23:00:00Z\""),
        ($"{what} after 2100", "\"2101-01-01T00:00:00Z\""),
        ($"{what} 9999-12-31T23:59:59.999999999Z", "\"9999-12-31T23:59:59.999999999Z\""),
        ($"{what} -0001-01-01", "\"-0001-01-01T00:00:00Z\""),
        ($"{what} as a number", "1751328000"),
        ($"{what} empty", "\"\""),
    ];

    /// <summary>Chip-hours: greater than 0, at most 10^9, at most 6 decimals.</summary>
    private static IEnumerable<(string Kind, string Json)> BadChipHours() =>
    [
        ("chipHours 0", "0"),
        ("chipHours negative", "-1"),
        ("chipHours 1e28", "1e28"),
        ("chipHours 3.3e28", "3.3e28"),
        ("chipHours near decimal max", DecimalMax),
        ("chipHours beyond decimal (1e400)", "1e400"),
        ("chipHours just over 10^9", "1000000000.000001"),
        ("chipHours 1e10", "10000000000"),
        ("chipHours with 7 decimals", "1.1234567"),
        ("chipHours below a millionth", "0.0000001"),
        ("chipHours of the wrong type (\"lots\")", "\"lots\""),
        ("chipHours of the wrong type (boolean)", "true"),
        ("chipHours of the wrong type (object)", "{}"),
    ];

    /// <summary>Tokens: 0 to 10^15, whole.</summary>
    private static IEnumerable<(string Kind, string Json)> BadTokens() =>
    [
        ("tokens negative", "-1"),
        ("tokens 1.5", "1.5"),
        ("tokens just over 10^15", "1000000000000001"),
        ("tokens long.MaxValue", "9223372036854775807"),
        ("tokens beyond long", "9223372036854775808"),
        ("tokens 1e20", "1e20"),
        ("tokens of the wrong type (\"lots\")", "\"lots\""),
        ("tokens of the wrong type (boolean)", "true"),
    ];

    /// <summary>A money object that is wrong in itself, whatever the rest of the body says.</summary>
    private static IEnumerable<(string Kind, string Json)> BadMoney(string what, Random r) =>
    [
        ($"{what} over 10^15", """{ "amount": 10000000000000000, "currency": "USD" }"""),
        ($"{what} just over 10^15", """{ "amount": 1000000000000000.01, "currency": "USD" }"""),
        ($"{what} near decimal max", $$"""{ "amount": {{DecimalMax}}, "currency": "USD" }"""),
        ($"{what} 1e28", """{ "amount": 1e28, "currency": "USD" }"""),
        ($"{what} beyond decimal (1e400)", """{ "amount": 1e400, "currency": "USD" }"""),
        ($"{what} amount \"lots\"", """{ "amount": "lots", "currency": "USD" }"""),
        ($"{what} amount \"1,000\"", """{ "amount": "1,000", "currency": "USD" }"""),
        ($"{what} amount boolean", """{ "amount": true, "currency": "USD" }"""),
        ($"{what} without amount", """{ "currency": "USD" }"""),
        ($"{what} currency XYZ", """{ "amount": 1000, "currency": "XYZ" }"""),
        ($"{what} currency of two letters", """{ "amount": 1000, "currency": "US" }"""),
        ($"{what} currency of four letters", """{ "amount": 1000, "currency": "USDX" }"""),
        ($"{what} empty currency", """{ "amount": 1000, "currency": "" }"""),
        ($"{what} NUL in currency", $$"""{ "amount": 1000, "currency": {{J.Str(WithInside("USD", "\u0000", r))}} }"""),
        ($"{what} currency as a number", """{ "amount": 1000, "currency": 840 }"""),
        ($"{what} without currency", """{ "amount": 1000 }"""),
        ($"{what} as a string", "\"1000 USD\""),
        ($"{what} as a number", "1000"),
        ($"{what} as an array", "[1000, \"USD\"]"),
    ];

    private static IEnumerable<(string Kind, string Body, string? ContentType)> BadBodies(JsonNode valid, Random r)
    {
        var text = valid.ToJsonString();
        yield return ("JSON null body", "null", "application/json");
        yield return ("empty body", "", "application/json");
        yield return ("whitespace body", "   ", "application/json");
        yield return ("body is an array", "[]", "application/json");
        yield return ("body is a number", "42", "application/json");
        yield return ("body is a string", "\"hello\"", "application/json");
        yield return ("body is an empty object", "{}", "application/json");
        yield return ("truncated JSON", text[..r.Next(1, text.Length - 1)], "application/json");
        yield return ("truncated JSON", text[..r.Next(1, text.Length - 1)], "application/json");
        yield return ("not JSON", "commitmentId=x&investor=y", "application/json");
        yield return ("trailing garbage after the JSON", text + " }x", "application/json");
        yield return ("JSON with a comment", "/* hi */ " + text, "application/json");
        yield return ("deeply nested JSON (depth 100)", Nested(100), "application/json");
        yield return ("deeply nested JSON (depth 10,000)", Nested(10_000), "application/json");
    }

    private static string Nested(int depth) => "{\"a\":" + new string('[', depth) + new string(']', depth) + "}";

    // ---------- reads ----------

    private static readonly string[] TimeGarbage =
    [
        "9999-12-31", "9999-12-31T23:59:59.999999999Z", "-0001-01-01", "0001-01-01", "0001-01-01T00:00:00Z", "-9998-01-01",
        "0000-00-00", "2025-13-01", "2025-02-30", "15/01/2025", "lots", " ", "\u0000", "2025-01-01\u0000", "2025-01-01T25:00:00Z",
        "2025-01-01T00:00:00+25:00", "2025-01-01T00:00:00+18:00", "2025-01-01T00:00:00.0000000001Z", "9999-12", "2025-W01",
        "99999999999999999999", "1e308", "null", "[]", "2025-01-01'; drop table ledger.mt_events; --",
    ];

    private static readonly string[] MonthGarbage =
    [
        "9999-12", "0000-01", "0001-01", "-0001-01", "2025-00", "2025-13", "99999-01", "2025-1", "2025", "2025-07-01", "lots",
        "\u0000", "9999-12-31", "-9999-12",
    ];

    private static IEnumerable<HostileCase> Reads(Random r, string webhookId)
    {
        (string Path, string[] Times, string[] Months, string[] Dates, string[] Names)[] endpoints =
        [
            ("/api/commitments", ["asOf", "knownAt"], [], [], []),
            ($"/api/commitments/{Deal}/eligibility", ["asOf", "knownAt"], [], [], []),
            ("/api/spend/chips", ["asOf", "knownAt"], ["from", "to"], [], ["provider", "chip"]),
            ("/api/revenue/providers", ["asOf", "knownAt"], ["from", "to"], [], ["provider"]),
            ("/api/economics/chips", ["asOf", "knownAt"], ["from", "to"], [], ["provider"]),
            ("/api/deals", ["asOf", "knownAt"], [], [], []),
            ("/api/revenue/providers/yearly", ["asOf", "knownAt"], [], [], ["provider"]),
            ($"/api/commitments/{Deal}/drawdown", ["asOf", "knownAt"], [], [], []),
            ("/api/reconciliation", ["asOf", "knownAt"], [], [], []),
            ("/api/restatements?knownFrom=2025-01-01", ["knownTo"], [], [], []),
            ("/api/restatements", ["knownFrom"], [], [], []),
            ("/api/export/focus.csv?from=2025-07-01&to=2025-07-31", ["asOf", "knownAt"], [], [], []),
            ("/api/export/focus.csv", [], [], ["from", "to"], []),
            ("/api/export/contract-commitments.csv?from=2025-07-01&to=2025-07-31", ["asOf", "knownAt"], [], [], []),
            ("/api/export/contract-commitments.csv", [], [], ["from", "to"], []),
            ($"/api/explain/tranches/{Deal}/{Eligible}", ["asOf", "knownAt"], [], [], []),
            ("/api/explain/spend/AWS/Trainium2/2025-07", ["asOf", "knownAt"], [], [], []),
            ("/api/explain/revenue/AWS/2025-07", ["asOf", "knownAt"], [], [], []),
        ];

        foreach (var (path, times, months, dates, names) in endpoints)
        {
            foreach (var parameter in times)
            {
                foreach (var value in TimeGarbage.Append(Long(3000, r)).Append(WithInside("2025-01-01", Control(r).ToString(), r)))
                {
                    yield return Get($"{parameter}={Show(value)}", Query(path, parameter, value), parameter);
                }
            }

            foreach (var parameter in months)
            {
                foreach (var value in MonthGarbage.Append(Long(3000, r)))
                {
                    yield return Get($"{parameter}={Show(value)}", Query(path, parameter, value), parameter);
                }
            }

            foreach (var parameter in dates)
            {
                foreach (var value in TimeGarbage.Concat(MonthGarbage).Distinct(StringComparer.Ordinal))
                {
                    // The export window needs both ends; the other one stays valid.
                    var other = parameter == "from" ? "to=2025-07-31" : "from=2025-07-01";
                    yield return Get($"{parameter}={Show(value)}", Query(path + "?" + other, parameter, value), parameter);
                }
            }

            foreach (var parameter in names)
            {
                foreach (var value in new[] { "\u0000", Long(3000, r), "x'; drop table ledger.mt_events; --", "%", "\u202e" })
                {
                    yield return Get($"{parameter}={Show(value)}", Query(path, parameter, value), parameter);
                }
            }
        }

        // Yearly revenue takes years (yyyy, 2000-2100), not months.
        string[] yearGarbage = ["0", "1999", "2101", "9999", "-2025", "2025-01", "20 25", "\uff12\uff10\uff12\uff15", "1e3", "0x7e9", "lots", "\u0000", "%", Long(3000, r)];
        foreach (var parameter in new[] { "from", "to" })
        {
            foreach (var value in yearGarbage)
            {
                yield return Get($"{parameter}={Show(value)}", Query("/api/revenue/providers/yearly", parameter, value), parameter);
            }
        }

        yield return Get("from after to", "/api/revenue/providers/yearly?from=2026&to=2025", "to");

        // Lineage paging: a page size and an opaque cursor.
        string[] pageGarbage = ["0", "1001", "-1", "1e3", "NaN", "0x10", "99999999999999999999", "lots", "\u0000", "%", "\u202e", Long(3000, r),
            "bDEuNS45LjA", "bDEuOS4tNS4w", "x'; drop table ledger.mt_events; --"];
        foreach (var path in new[] { "/api/explain/spend/AWS/Trainium2/2025-07", "/api/explain/revenue/AWS/2025-07" })
        {
            foreach (var parameter in new[] { "limit", "after" })
            {
                foreach (var value in TimeGarbage.Concat(pageGarbage).Distinct(StringComparer.Ordinal))
                {
                    yield return Get($"{parameter}={Show(value)}", Query(path, parameter, value), parameter);
                }
            }
        }

        // The dead-letter list is paged too (admin key).
        foreach (var value in TimeGarbage.Concat(pageGarbage).Distinct(StringComparer.Ordinal))
        {
            yield return new HostileCase($"limit={Show(value)}", "GET", Query("/api/dead-letters", "limit", value), null, Admin, Expect.AnswersOrNamesParameter, "limit");
        }

        // Garbage in path parameters.
        // No NUL in a path: the in-process test client refuses to send one ("The path contains null characters"), and
        // Kestrel answers it with a 400 before any endpoint runs. Other control characters do reach the endpoints.
        string[] pathGarbage = ["\u0001", "\u001b", Long(3000, r), "..", "%2e%2e", "9999-12", "x'; drop table ledger.mt_events; --", "\u202e"];
        foreach (var value in pathGarbage)
        {
            var v = Uri.EscapeDataString(value);
            yield return Get($"id={Show(value)}", $"/api/commitments/{v}/eligibility", "id");
            yield return Get($"id={Show(value)}", $"/api/commitments/{v}/drawdown", "id");
            yield return Get($"provider={Show(value)}", $"/api/providers/{v}/rates", "provider");
            yield return Get($"trancheId={Show(value)}", $"/api/explain/tranches/{Deal}/{v}", "trancheId");
            yield return Get($"month={Show(value)}", $"/api/explain/spend/AWS/Trainium2/{v}", "month");
            yield return Get($"month={Show(value)}", $"/api/explain/revenue/AWS/{v}", "month");
            yield return Get($"chip={Show(value)}", $"/api/explain/spend/AWS/{v}/2025-07", "chip");
            yield return new HostileCase($"webhook id={Show(value)}", "GET", $"/api/webhooks/{v}/deliveries", null, Admin, Expect.AnswersOrNamesParameter, "id");
            yield return new HostileCase($"webhook id={Show(value)}", "DELETE", $"/api/webhooks/{v}", null, Admin, Expect.AnswersOrNamesParameter, "id");
        }

        // The registered webhook is not deleted by a read; its deliveries read with garbage around the id.
        yield return new HostileCase("webhook id with a suffix", "DELETE", $"/api/webhooks/{webhookId}x", null, Admin, Expect.AnswersOrNamesParameter, "id");

        static HostileCase Get(string kind, string path, string parameter) =>
            new(kind, "GET", path, null, Analyst, Expect.AnswersOrNamesParameter, parameter);

        static string Query(string path, string parameter, string value) =>
            $"{path}{(path.Contains('?', StringComparison.Ordinal) ? '&' : '?')}{parameter}={Uri.EscapeDataString(value)}";

        static string Show(string value) => HostileCase.Show(value, 40);
    }

    // ---------- commitments ----------

    /// <summary>A valid signed deal (upfront + tranches = headline) with a consumption milestone.</summary>
    public static JsonObject ValidDeal(string id) => J.Obj($$"""
        {
          "commitmentId": "{{id}}", "investor": "Acme", "partner": "Lab", "provider": "AWS",
          "status": "Signed", "signedOn": "2025-01-15", "structure": "$1B upfront + $3B milestones",
          "headline": { "amount": 4000000000, "currency": "USD" },
          "upfront":  { "amount": 1000000000, "currency": "USD" },
          "milestones": [
            { "milestoneId": "big-model", "description": "Train a 1T model", "kind": "attested" },
            { "milestoneId": "scale", "description": "Use it", "kind": "consumption",
              "threshold": { "spend": { "amount": 1000000, "currency": "USD" } }, "chips": [ "Trainium2" ], "deadline": "2026-12-31" }
          ],
          "tranches": [ { "trancheId": "t1", "amount": { "amount": 3000000000, "currency": "USD" }, "milestones": [ "big-model", "scale" ] } ],
          "computeCommitment": { "provider": "AWS", "chips": [ "Trainium2" ],
            "committedSpend": { "amount": 4000000000, "currency": "USD" }, "termStart": "2025-01-15", "termEnd": "2030-01-15" }
        }
        """);

    private static IEnumerable<HostileCase> Commitments(Random r)
    {
        var n = 0;
        string NextId() => $"hostile-{++n}";

        HostileCase Post(string kind, JsonNode body, string? field) =>
            new(kind, "POST", "/api/commitments", body.ToJsonString(), Admin, Expect.Refused, field);

        (string Path, IEnumerable<(string Kind, string Json)> Values)[] slots =
        [
            ("commitmentId", BadIds("commitmentId", r)),
            ("investor", BadText("investor", r, required: true)),
            ("partner", BadText("partner", r, required: true)),
            ("provider", BadText("provider", r, required: true)),
            ("status", [("status Declined on creation", "\"Declined\""), ("status gaming", "\"gaming\""), ("status as a number", "1")]),
            ("signedOn", BadDates("signedOn")),
            ("structure", BadText("structure", r, required: false)),
            ("headline", BadMoney("headline", r)),
            ("upfront", BadMoney("upfront", r)),
            ("milestones[0].milestoneId", BadIds("milestoneId", r)),
            ("milestones[0].description", BadText("description", r, required: false)),
            ("milestones[0].kind", [("milestone kind gaming", "\"gaming\""), ("milestone kind as a number", "3")]),
            ("milestones[1].threshold.spend", BadMoney("threshold spend", r).Take(8)),
            ("milestones[1].threshold", [("threshold chipHours 1e28", """{ "chipHours": 1e28 }"""), ("threshold chipHours negative", """{ "chipHours": -5 }"""),
                ("threshold chipHours \"lots\"", """{ "chipHours": "lots" }""")]),
            ("milestones[1].chips[0]", [("milestone chip not in the catalog", "\"NotAChip\""), ("NUL in milestone chip", J.Str("Train\u0000ium2"))]),
            ("milestones[1].deadline", BadDates("deadline")),
            ("tranches[0].trancheId", BadIds("trancheId", r)),
            ("tranches[0].amount", BadMoney("tranche amount", r)),
            ("tranches[0].milestones[0]", [("tranche names an unknown milestone", "\"nope\""), ("NUL in a tranche's milestone", J.Str("big\u0000model"))]),
            ("computeCommitment.provider", BadText("compute provider", r, required: true).Take(4)),
            ("computeCommitment.chips[0]", [("commitment chip not in the catalog", "\"NotAChip\""), ("NUL in a commitment chip", J.Str("Trainium2\u0000")),
                ("3,000-character commitment chip", J.Str(Long(3000, r))), ("commitment chip as a number", "7")]),
            ("computeCommitment.committedSpend", BadMoney("committedSpend", r)),
            ("computeCommitment.termStart", BadDates("termStart")),
            ("computeCommitment.termEnd", BadDates("termEnd")),
        ];

        foreach (var (path, values) in slots)
        {
            foreach (var (kind, json) in values)
            {
                var body = J.With(ValidDeal(NextId()), path, J.Raw(json));
                yield return Post(kind, body, Leaf(path));
            }
        }

        foreach (var required in new[] { "commitmentId", "investor", "headline", "status" })
        {
            yield return Post($"without {required}", J.With(ValidDeal(NextId()), required, null, remove: true), required);
        }

        // Amounts that agree with each other (upfront + tranches = headline), so only the rule under test can refuse them.
        (string Kind, string Currency, string Headline, string Upfront, string Tranche, string Committed, string Field)[] consistent =
        [
            ("headline 4000000000.001 (more decimals than USD has)", "USD", "4000000000.001", "1000000000.001", "3000000000", "4000000000", "headline"),
            ("all amounts with 3 decimals in USD", "USD", "4000000000.003", "1000000000.001", "3000000000.002", "4000000000", "headline"),
            ("committedSpend with 3 decimals in USD", "USD", "4000000000", "1000000000", "3000000000", "4000000000.005", "committedSpend"),
            ("JPY amounts with decimals", "JPY", "4000.5", "1000.5", "3000", "4000", "headline"),
            ("currency XYZ throughout", "XYZ", "4000000000", "1000000000", "3000000000", "4000000000", "currency"),
            ("lower-case currency throughout", "usd", "4000000000", "1000000000", "3000000000", "4000000000", "currency"),
            ("headline over 10^15", "USD", "2000000000000000", "1000000000000000", "1000000000000000", "4000000000", "headline"),
            ("headline near decimal max", "USD", DecimalMax, "79228162514264337590543950335", "3000000000", "4000000000", "headline"),
            ("committedSpend near decimal max", "USD", "4000000000", "1000000000", "3000000000", DecimalMax, "committedSpend"),
            ("committedSpend over 10^15", "USD", "4000000000", "1000000000", "3000000000", "1000000000000001", "committedSpend"),
            ("negative amounts throughout", "USD", "-4000000000", "-1000000000", "-3000000000", "-4000000000", "headline"),
        ];
        foreach (var (kind, currency, headline, upfront, tranche, committed, field) in consistent)
        {
            var body = ValidDeal(NextId());
            body["headline"] = J.Raw($$"""{ "amount": {{headline}}, "currency": "{{currency}}" }""");
            body["upfront"] = J.Raw($$"""{ "amount": {{upfront}}, "currency": "{{currency}}" }""");
            body["tranches"]![0]!["amount"] = J.Raw($$"""{ "amount": {{tranche}}, "currency": "{{currency}}" }""");
            body["computeCommitment"]!["committedSpend"] = J.Raw($$"""{ "amount": {{committed}}, "currency": "{{currency}}" }""");
            body["milestones"]![1]!["threshold"] = J.Raw($$"""{ "spend": { "amount": 1000000, "currency": "{{currency}}" } }""");
            yield return Post(kind, body, field);
        }

        foreach (var (kind, text, contentType) in BadBodies(ValidDeal(NextId()), r))
        {
            yield return new HostileCase(kind, "POST", "/api/commitments", text, Admin, Expect.Refused, null, contentType);
        }
    }

    private static string Leaf(string path)
    {
        var last = path.Split('.')[^1];
        var bracket = last.IndexOf('[', StringComparison.Ordinal);
        return bracket > 0 ? last[..bracket] : last;
    }

    // ---------- actions on a commitment ----------

    private const string AchieveBody = """{ "achievedOn": "2025-06-30", "evidence": "model card v1" }""";

    private static IEnumerable<HostileCase> CommitmentActions(Random r)
    {
        (string Path, string Valid, (string Field, IEnumerable<(string Kind, string Json)> Values)[] Slots, bool BodyOptional)[] actions =
        [
            ($"/api/commitments/{Offer}/sign", """{ "signedOn": "2025-02-01" }""",
                [("signedOn", BadDates("signedOn")), ("expectedVersion", ExpectedVersions())], false),
            ($"/api/commitments/{Offer}/decline", """{ "reason": "went elsewhere" }""",
                [("reason", BadText("reason", r, required: false)), ("declinedOn", BadDates("declinedOn")), ("expectedVersion", ExpectedVersions())], true),
            ($"/api/commitments/{Deal}/milestones/{Pending}/achieve", AchieveBody,
                [("achievedOn", BadDates("achievedOn")), ("evidence", BadText("evidence", r, required: false)), ("expectedVersion", ExpectedVersions())], false),
            ($"/api/commitments/{Deal}/milestones/{Achieved}/revoke", """{ "reason": "paper retracted" }""",
                [("reason", BadText("reason", r, required: false)), ("expectedVersion", ExpectedVersions())], true),
            ($"/api/commitments/{Deal}/tranches/{Eligible}/release", """{ "releasedOn": "2025-07-15" }""",
                [("releasedOn", BadDates("releasedOn")), ("expectedVersion", ExpectedVersions())], false),
        ];

        foreach (var (path, valid, slots, bodyOptional) in actions)
        {
            foreach (var (field, values) in slots)
            {
                foreach (var (kind, json) in values)
                {
                    var body = J.With(J.Obj(valid), field, J.Raw(json));
                    yield return new HostileCase(kind, "POST", path, body.ToJsonString(), Admin, Expect.Refused, field);
                }
            }

            foreach (var (kind, text, contentType) in BadBodies(J.Obj(valid), r).Where(b => !bodyOptional || (b.Kind is not ("JSON null body" or "empty body" or "whitespace body" or "body is an empty object"))))
            {
                yield return new HostileCase(kind, "POST", path, text, Admin, Expect.Refused, null, contentType);
            }
        }

        // Ids in the path: a 404 or a 400, never a 5xx.
        foreach (var (kind, value) in new[] { ("control character in the commitment id", "amazon\u0001anthropic"), ("3,000-character commitment id", Long(3000, r)) })
        {
            var v = Uri.EscapeDataString(value);
            yield return new HostileCase(kind, "POST", $"/api/commitments/{v}/sign", """{ "signedOn": "2025-02-01" }""", Admin, Expect.Refused, "id");
            yield return new HostileCase(kind, "POST", $"/api/commitments/{v}/milestones/{Pending}/achieve", AchieveBody, Admin, Expect.Refused, "id");
            yield return new HostileCase(kind.Replace("commitment", "milestone", StringComparison.Ordinal), "POST",
                $"/api/commitments/{Deal}/milestones/{v}/achieve", AchieveBody, Admin, Expect.Refused, "milestoneId");
            yield return new HostileCase(kind.Replace("commitment", "tranche", StringComparison.Ordinal), "POST",
                $"/api/commitments/{Deal}/tranches/{v}/release", """{ "releasedOn": "2025-07-15" }""", Admin, Expect.Refused, "trancheId");
        }

        static IEnumerable<(string Kind, string Json)> ExpectedVersions() =>
        [
            ("expectedVersion \"lots\"", "\"lots\""),
            ("expectedVersion 1.5", "1.5"),
            ("expectedVersion beyond long", "99999999999999999999"),
            ("expectedVersion negative", "-1"),
        ];
    }

    // ---------- chips ----------

    private static IEnumerable<HostileCase> Chips(Random r)
    {
        var n = 0;
        JsonObject Valid() => J.Obj($$"""{ "name": "HX{{++n}}", "vendor": "NVIDIA", "purpose": "training", "description": "a chip" }""");

        (string Path, IEnumerable<(string Kind, string Json)> Values)[] slots =
        [
            ("name", BadIds("chip name", r)),
            ("vendor", BadText("vendor", r, required: true)),
            ("purpose", [("chip purpose gaming", "\"gaming\""), ("NUL in purpose", J.Str("train\u0000ing")), ("purpose as a number", "1"), ("3,000-character purpose", J.Str(Long(3000, r)))]),
            ("description", BadText("description", r, required: false)),
        ];
        foreach (var (path, values) in slots)
        {
            foreach (var (kind, json) in values)
            {
                yield return new HostileCase(kind, "POST", "/api/chips", J.With(Valid(), path, J.Raw(json)).ToJsonString(), Admin, Expect.Refused, path);
            }
        }

        yield return new HostileCase("without name", "POST", "/api/chips", J.With(Valid(), "name", null, remove: true).ToJsonString(), Admin, Expect.Refused, "name");
        foreach (var (kind, text, contentType) in BadBodies(Valid(), r))
        {
            yield return new HostileCase(kind, "POST", "/api/chips", text, Admin, Expect.Refused, null, contentType);
        }

        // Chip figures: each bounded (greater than 0, at most 10^6, 6 decimals), money as everywhere, a date, some text.
        (string Kind, string Json)[] badFigures =
        [
            ("0", "0"), ("negative", "-1"), ("just over 10^6", "1000000.000001"), ("1e28", "1e28"), ("beyond decimal (1e400)", "1e400"),
            ("with 7 decimals", "1.1234567"), ("\"lots\"", "\"lots\""), ("boolean", "true"), ("object", "{}"),
        ];
        (string Path, IEnumerable<(string Kind, string Json)> Values)[] specSlots =
        [
            ("effectiveFrom", BadDates("effectiveFrom")),
            ("fp16Tflops", badFigures.Select(f => ($"fp16Tflops {f.Kind}", f.Json))),
            ("inferenceLatencyMs", badFigures.Select(f => ($"inferenceLatencyMs {f.Kind}", f.Json))),
            ("tflopsPerWatt", badFigures.Select(f => ($"tflopsPerWatt {f.Kind}", f.Json))),
            ("listCostPer1MTokens", BadMoney("listCostPer1MTokens", r)),
            ("source", BadText("source", r, required: false)),
        ];
        foreach (var (path, values) in specSlots)
        {
            foreach (var (kind, json) in values)
            {
                yield return new HostileCase(kind, "POST", "/api/chips/Trainium2/specs", J.With(J.Obj(SpecsBody), path, J.Raw(json)).ToJsonString(), Admin, Expect.Refused, path);
            }
        }

        yield return new HostileCase("specs without effectiveFrom", "POST", "/api/chips/Trainium2/specs",
            J.With(J.Obj(SpecsBody), "effectiveFrom", null, remove: true).ToJsonString(), Admin, Expect.Refused, "effectiveFrom");
        yield return new HostileCase("specs without any figure", "POST", "/api/chips/Trainium2/specs", """{ "effectiveFrom": "2025-01-01" }""", Admin, Expect.Refused, "fp16Tflops");
        yield return new HostileCase("specs of an unknown chip", "POST", "/api/chips/NoSuchChip/specs", SpecsBody, Admin, Expect.Refused);
        yield return new HostileCase("specs of a malformed chip name", "POST", "/api/chips/%25%27x/specs", SpecsBody, Admin, Expect.Refused);
        foreach (var (kind, text, contentType) in BadBodies(J.Obj(SpecsBody), r))
        {
            yield return new HostileCase($"specs: {kind}", "POST", "/api/chips/Trainium2/specs", text, Admin, Expect.Refused, null, contentType);
        }
    }

    public const string SpecsBody = """{ "effectiveFrom": "2025-01-01", "fp16Tflops": 800, "inferenceLatencyMs": 45, "listCostPer1MTokens": { "amount": 1.50, "currency": "USD" }, "tflopsPerWatt": 2.1, "source": "a sheet" }""";

    // ---------- rate cards ----------

    /// <summary>The card the seed publishes for AWS; posting it again must change nothing.</summary>
    public const string SeedRates = """
        { "effectiveFrom": "2025-01-01", "rates": [
          { "chip": "Trainium2", "region": null, "pricePerChipHour": { "amount": 4.00, "currency": "USD" } },
          { "chip": "Trainium2", "region": "us-east-1", "pricePerChipHour": { "amount": 3.50, "currency": "USD" } },
          { "chip": "Inferentia2", "region": null, "pricePerChipHour": { "amount": 1.25, "currency": "USD" } } ] }
        """;

    private static IEnumerable<HostileCase> Rates(Random r)
    {
        var valid = J.Obj(RatesBody);
        (string Path, IEnumerable<(string Kind, string Json)> Values)[] slots =
        [
            ("effectiveFrom", BadDates("effectiveFrom")),
            ("rates", [("rates empty", "[]"), ("rates null", "null"), ("rates as an object", "{}"), ("rates [null]", "[null]"), ("rates as a string", "\"Trainium2\"")]),
            ("rates[0].chip", [("rate chip not in the catalog", "\"NotAChip\""), ("NUL in rate chip", J.Str("Trainium2\u0000")),
                ("3,000-character rate chip", J.Str(Long(3000, r))), ("rate chip as a number", "7")]),
            ("rates[0].region", BadIds("region", r, required: false)),
            ("rates[0].pricePerChipHour", BadMoney("pricePerChipHour", r)),
            ("rates[0].pricePerChipHour", [
                ("pricePerChipHour with 7 decimals", """{ "amount": 3.1234567, "currency": "USD" }"""),
                ("pricePerChipHour negative", """{ "amount": -3.5, "currency": "USD" }"""),
                ("pricePerChipHour with 7 decimals in JPY", """{ "amount": 500.1234567, "currency": "JPY" }"""),
            ]),
        ];

        foreach (var target in new[] { "/api/providers/AWS/rates", $"/api/commitments/{Deal}/rates" })
        {
            foreach (var (path, values) in slots)
            {
                foreach (var (kind, json) in values)
                {
                    yield return new HostileCase(kind, "POST", target, J.With(valid, path, J.Raw(json)).ToJsonString(), Admin, Expect.Refused, Leaf(path));
                }
            }

            foreach (var (kind, text, contentType) in BadBodies(valid, r))
            {
                yield return new HostileCase(kind, "POST", target, text, Admin, Expect.Refused, null, contentType);
            }
        }

        // A rate card names a provider the ledger knows, and its path must be a plausible id.
        foreach (var (kind, provider) in new[] { ("rate card for an unknown provider", "NoSuchCloud"), ("control character inside the provider", "AW\u0001S"),
                     ("3,000-character provider", Long(3000, r)), ("control character in the provider", "AWS" + Control(r)) })
        {
            yield return new HostileCase(kind, "POST", $"/api/providers/{Uri.EscapeDataString(provider)}/rates", valid.ToJsonString(), Admin, Expect.Refused, "provider");
        }

        yield return new HostileCase("rate card for an unknown commitment", "POST", "/api/commitments/no-such-deal/rates", valid.ToJsonString(), Admin, Expect.Refused, "id");
        yield return new HostileCase("the seed's rate card posted again", "POST", "/api/providers/AWS/rates", SeedRates, Admin, Expect.NotStored);
    }

    // ---------- usage ----------

    private static int _usage;

    public static JsonObject ValidRecord(string usageId) => J.Obj($$"""
        { "usageId": "{{usageId}}", "commitmentId": "{{Deal}}", "provider": "AWS", "chip": "Trainium2", "region": "us-east-1",
          "chipHours": 2, "start": "2025-07-01T00:00:00Z", "end": "2025-07-01T01:00:00Z", "tokens": 1000 }
        """);

    private static JsonObject NextRecord() => ValidRecord($"hostile-{Interlocked.Increment(ref _usage)}");

    /// <summary>Each record mutation: one bad record, as the issue's table lists them and by field.</summary>
    private static IEnumerable<(string Kind, JsonNode?[] Records, string? Field, string Key)> RecordMutations(Random r)
    {
        (string Path, IEnumerable<(string Kind, string Json)> Values, string Key)[] slots =
        [
            ("usageId", BadIds("usageId", r), IngestKey),
            ("commitmentId", BadIds("commitmentId", r).Append(("unknown commitmentId", "\"no-such-deal\"")), IngestKey),
            ("provider", BadText("provider", r, required: true), Admin),
            ("provider", [("NUL in provider", J.Str("AWS\u0000")), ("3,000-character provider", J.Str(Long(3000, r)))], IngestKey),
            ("chip", BadIds("chip", r).Append(("chip not in the catalog", "\"NotAChip\"")), IngestKey),
            ("region", BadIds("region", r, required: false), IngestKey),
            ("chipHours", BadChipHours(), IngestKey),
            ("start", BadInstants("start"), IngestKey),
            ("end", BadInstants("end"), IngestKey),
            ("tokens", BadTokens(), IngestKey),
        ];
        foreach (var (path, values, key) in slots)
        {
            foreach (var (kind, json) in values)
            {
                yield return (kind, [J.With(NextRecord(), path, J.Raw(json))], path, key);
            }
        }

        yield return ("end before start", [J.With(NextRecord(), "end", J.Raw("\"2025-06-30T23:00:00Z\""))], "end", IngestKey);
        yield return ("window over 31 days", [J.With(NextRecord(), "end", J.Raw("\"2025-08-15T00:00:00Z\""))], "end", IngestKey);
        yield return ("record null", [null], null, IngestKey);

        // The issue's table: two oversized records in the same chip, provider and month; long.MaxValue tokens twice.
        yield return ("two records of chipHours 3.3e28 in one chip, provider and month",
            [J.With(NextRecord(), "chipHours", J.Raw("3.3e28")),
             J.With(J.With(J.With(NextRecord(), "chipHours", J.Raw("3.3e28")), "start", "2025-07-02T00:00:00Z"), "end", "2025-07-02T01:00:00Z")],
            "chipHours", IngestKey);
        yield return ("tokens 9223372036854775807 twice in a month",
            [J.With(NextRecord(), "tokens", J.Raw("9223372036854775807")), J.With(NextRecord(), "tokens", J.Raw("9223372036854775807"))], "tokens", IngestKey);

        // Random combinations: two to four fields wrong at once, from the same catalogues.
        var pool = slots.SelectMany(s => s.Values.Select(v => (s.Path, v.Kind, v.Json))).Where(p => p.Path != "provider").ToArray();
        for (var i = 0; i < 25; i++)
        {
            var record = (JsonNode)NextRecord();
            var picked = Enumerable.Range(0, r.Next(2, 5)).Select(_ => pool[r.Next(pool.Length)]).DistinctBy(p => p.Path).ToList();
            foreach (var (path, _, json) in picked)
            {
                record = J.With(record, path, J.Raw(json));
            }

            yield return ("several fields wrong: " + string.Join(", ", picked.Select(p => p.Kind)), [record], null, IngestKey);
        }
    }

    private static IEnumerable<HostileCase> UsageJson(Random r)
    {
        foreach (var (kind, records, field, key) in RecordMutations(r))
        {
            var body = new JsonObject { ["records"] = new JsonArray([.. records.Select(x => x?.DeepClone())]) };
            yield return new HostileCase(kind, "POST", "/api/usage", body.ToJsonString(), key, Expect.RefusedOrRejected, field, Records: records.Length);
        }

        var valid = new JsonObject { ["records"] = new JsonArray(NextRecord()) };
        foreach (var (kind, text, contentType) in BadBodies(valid, r))
        {
            yield return new HostileCase(kind, "POST", "/api/usage", text, IngestKey, Expect.Refused, null, contentType);
        }

        foreach (var (kind, json) in new[] { ("records null", """{ "records": null }"""), ("records a number", """{ "records": 42 }"""),
                     ("records a string", """{ "records": "x" }"""), ("records an object", """{ "records": {} }"""), ("records missing", """{ "rows": [] }""") })
        {
            yield return new HostileCase(kind, "POST", "/api/usage", json, IngestKey, Expect.Refused, "records");
        }

        // Over the batch limit: valid records, so only the limit can refuse them.
        var many = new JsonArray();
        for (var i = 0; i < 10_001; i++)
        {
            many.Add(ValidRecord($"hostile-many-{i}"));
        }

        yield return new HostileCase("10,001 records", "POST", "/api/usage", new JsonObject { ["records"] = many }.ToJsonString(), IngestKey, Expect.Refused);
    }

    private static IEnumerable<HostileCase> UsageNdjson(Random r)
    {
        foreach (var (kind, records, field, key) in RecordMutations(r))
        {
            var lines = string.Join("\n", records.Select(x => x?.ToJsonString() ?? "null"));
            yield return new HostileCase(kind, "POST", "/api/usage", lines + "\n", key, Expect.RefusedOrRejected, field, "application/x-ndjson", records.Length);
        }

        var good = NextRecord().ToJsonString();
        foreach (var (kind, line) in new[]
                 {
                     ("a line of truncated JSON", good[..r.Next(5, good.Length - 5)]), ("a line that is an array", "[]"), ("a line that is a number", "42"),
                     ("a line that is a string", "\"x\""), ("a line of deeply nested JSON", Nested(10_000)), ("a line that is not JSON", "usageId=x"),
                     ("two records on one line", good + good), ("a line with a NUL byte outside strings", "\u0000" + good),
                 })
        {
            yield return new HostileCase(kind, "POST", "/api/usage", line + "\n", IngestKey, Expect.RefusedOrRejected, null, "application/x-ndjson", 1);
        }

        yield return new HostileCase("a JSON batch sent as NDJSON", "POST", "/api/usage", $"{{\"records\":[{good}]}}", IngestKey, Expect.RefusedOrRejected, null, "application/x-ndjson", 1);
        yield return new HostileCase("NDJSON of nulls", "POST", "/api/usage", "null\nnull\n", IngestKey, Expect.RefusedOrRejected, null, "application/x-ndjson", 2);
        yield return new HostileCase("invalid UTF-8 in NDJSON", "POST", "/api/usage", null, IngestKey, Expect.RefusedOrRejected, null, "application/x-ndjson", 1,
            [.. Encoding.UTF8.GetBytes(good[..20]), 0xC3, 0x28, 0xFF, .. Encoding.UTF8.GetBytes(good[20..])]);
        var lines10001 = new StringBuilder();
        for (var i = 0; i < 10_001; i++)
        {
            lines10001.Append(ValidRecord($"hostile-ndjson-many-{i}").ToJsonString()).Append('\n');
        }

        yield return new HostileCase("10,001 NDJSON lines", "POST", "/api/usage", lines10001.ToString(), IngestKey, Expect.Refused, null, "application/x-ndjson");
    }

    // ---------- usage as CloudEvents ----------

    private const string CloudEventsBatch = "application/cloudevents-batch+json";

    /// <summary>
    /// A usage record as the compute.usage.v1 CloudEvent that carries it, each (possibly mutated) field moved to its
    /// attribute or into data as it is; anything that is not an object stays what it is.
    /// </summary>
    private static JsonNode? AsCloudEvent(JsonNode? record)
    {
        if (record is not JsonObject r)
        {
            return record?.DeepClone();
        }

        var e = new JsonObject { ["specversion"] = "1.0", ["type"] = "compute.usage.v1", ["source"] = "//meter/hostile" };
        var data = new JsonObject();
        foreach (var (name, value) in r)
        {
            var target = name switch { "usageId" => "id", "commitmentId" => "subject", "start" => "time", _ => null };
            if (target is not null)
            {
                e[target] = value?.DeepClone();
            }
            else
            {
                data[name] = value?.DeepClone();
            }
        }

        e["data"] = data;
        return e;
    }

    private static IEnumerable<HostileCase> UsageCloudEvents(Random r)
    {
        // Every record mutation of the JSON body, carried as CloudEvents: refused whole or rejected per event, never stored.
        foreach (var (kind, records, _, key) in RecordMutations(r))
        {
            yield return new HostileCase($"CloudEvents: {kind}", "POST", "/api/usage", new JsonArray(records.Select(AsCloudEvent).ToArray()).ToJsonString(),
                key, Expect.RefusedOrRejected, null, CloudEventsBatch, records.Length);
        }

        JsonObject Event(Action<JsonObject> mutate)
        {
            var e = (JsonObject)AsCloudEvent(NextRecord())!;
            mutate(e);
            return e;
        }

        foreach (var (kind, e) in new (string, JsonObject)[]
                 {
                     ("another event type", Event(e => e["type"] = "compute.usage.v2")),
                     ("specversion 0.3", Event(e => e["specversion"] = "0.3")),
                     ("no specversion", Event(e => e.Remove("specversion"))),
                     ("no id", Event(e => e.Remove("id"))),
                     ("no source", Event(e => e.Remove("source"))),
                     ("no type", Event(e => e.Remove("type"))),
                     ("a numeric id", Event(e => e["id"] = 42)),
                     ("a 3,000-character source", Event(e => e["source"] = "//" + Long(3000, r))),
                     ("a NUL in the id", Event(e => e["id"] = "a\u0000b")),
                     ("a time that is not a time", Event(e => e["time"] = "yesterday")),
                     ("data that is a string", Event(e => e["data"] = "chipHours=2")),
                     ("data as base64", Event(e => { e.Remove("data"); e["data_base64"] = "AAAA"; })),
                     ("data as XML", Event(e => { e["datacontenttype"] = "application/xml"; e["data"] = "<usage/>"; })),
                     ("no data", Event(e => e.Remove("data"))),
                     ("an extension attribute holding an object", Event(e => e["meter"] = new JsonObject { ["x"] = 1 })),
                 })
        {
            yield return new HostileCase($"CloudEvents: {kind}", "POST", "/api/usage", new JsonArray(e).ToJsonString(), IngestKey, Expect.RefusedOrRejected, null, CloudEventsBatch, 1);
        }

        var good = AsCloudEvent(NextRecord())!.ToJsonString();
        foreach (var (kind, body, type) in new[]
                 {
                     ("a batch of truncated JSON", "[" + good[..r.Next(5, good.Length - 5)], CloudEventsBatch),
                     ("a batch that is an object", good, CloudEventsBatch),
                     ("a single event that is an array", "[" + good + "]", "application/cloudevents+json"),
                     ("a batch of nulls", "[null, null]", CloudEventsBatch),
                     ("a batch of numbers", "[1, 2]", CloudEventsBatch),
                     ("a deeply nested batch", Nested(10_000), CloudEventsBatch),
                     ("an empty body", "", CloudEventsBatch),
                 })
        {
            yield return new HostileCase($"CloudEvents: {kind}", "POST", "/api/usage", body, IngestKey, Expect.RefusedOrRejected, null, type, 1);
        }

        var many = new JsonArray();
        for (var i = 0; i < 10_001; i++)
        {
            many.Add(AsCloudEvent(ValidRecord($"hostile-ce-many-{i}")));
        }

        yield return new HostileCase("CloudEvents: 10,001 events", "POST", "/api/usage", many.ToJsonString(), IngestKey, Expect.Refused, null, CloudEventsBatch);
    }

    // ---------- corrections ----------

    private static IEnumerable<HostileCase> Corrections(Random r)
    {
        var voidValid = J.Obj("""{ "reason": "duplicate meter" }""");
        foreach (var (kind, json) in BadText("reason", r, required: true))
        {
            yield return new HostileCase(kind, "POST", $"/api/usage/{Usage}/void", J.With(voidValid, "reason", J.Raw(json)).ToJsonString(), Admin, Expect.Refused, "reason");
        }

        foreach (var (kind, text, contentType) in BadBodies(voidValid, r))
        {
            yield return new HostileCase(kind, "POST", $"/api/usage/{Usage}/void", text, Admin, Expect.Refused, null, contentType);
        }

        var correctValid = J.Obj(CorrectBody);
        (string Path, IEnumerable<(string Kind, string Json)> Values)[] slots =
        [
            ("chipHours", BadChipHours()),
            ("start", BadInstants("start")),
            ("end", BadInstants("end").Append(("end before start", "\"2025-06-30T00:00:00Z\""))),
            ("tokens", BadTokens()),
            ("reason", BadText("reason", r, required: false)),
        ];
        foreach (var (path, values) in slots)
        {
            foreach (var (kind, json) in values)
            {
                yield return new HostileCase(kind, "POST", $"/api/usage/{Usage}/correct", J.With(correctValid, path, J.Raw(json)).ToJsonString(), Admin, Expect.Refused, path);
            }
        }

        foreach (var (kind, text, contentType) in BadBodies(correctValid, r))
        {
            yield return new HostileCase(kind, "POST", $"/api/usage/{Usage}/correct", text, Admin, Expect.Refused, null, contentType);
        }

        foreach (var (kind, id) in new[] { ("escape character in the usage id", "seed\u001b1"), ("3,000-character usage id", Long(3000, r)), ("control character in the usage id", "seed-1" + Control(r)) })
        {
            yield return new HostileCase(kind, "POST", $"/api/usage/{Uri.EscapeDataString(id)}/void", voidValid.ToJsonString(), Admin, Expect.Refused, "usageId");
            yield return new HostileCase(kind, "POST", $"/api/usage/{Uri.EscapeDataString(id)}/correct", correctValid.ToJsonString(), Admin, Expect.Refused, "usageId");
        }
    }

    // ---------- webhooks ----------

    private static IEnumerable<HostileCase> Webhooks(Random r)
    {
        var valid = J.Obj(WebhookBody);
        (string Path, IEnumerable<(string Kind, string Json)> Values)[] slots =
        [
            ("url", [
                ("url not a URL", "\"not a url\""), ("url relative", "\"/ledger\""), ("url ftp", "\"ftp://127.0.0.1/ledger\""),
                ("url file", "\"file:///etc/passwd\""), ("url javascript", "\"javascript:alert(1)\""),
                ("url with credentials", "\"http://user:secret@127.0.0.1:9/ledger\""), ("url to a private address", "\"http://10.0.0.1/ledger\""),
                ("url to link-local metadata", "\"http://169.254.169.254/latest/meta-data\""), ("url to a public host not allowed", "\"http://example.com/ledger\""),
                ("NUL in url", J.Str("http://127.0.0.1:9/led\u0000ger")), ("control character in url", J.Str("http://127.0.0.1:9/" + Control(r))),
                ("3,000-character url", J.Str("http://127.0.0.1:9/" + Long(3000, r))), ("empty url", "\"\""), ("url as a number", "42"), ("url as an object", "{}"),
            ]),
            ("eventTypes", [("eventTypes empty", "[]"), ("eventTypes unknown", "[\"Nope\"]"), ("eventTypes [null]", "[null]"), ("eventTypes a string", "\"TrancheReleased\""),
                ("eventTypes a number", "42"), ("NUL in an event type", $"[{J.Str("Tranche\u0000Released")}]")]),
            ("secret", [("secret of 15 characters", "\"123456789012345\""), ("secret short", "\"short\""), ("empty secret", "\"\""),
                ("NUL in secret", J.Str(WithInside("treasury-hook-secret-1234", "\u0000", r))), ("control character in secret", J.Str(WithInside("treasury-hook-secret-1234", Control(r).ToString(), r))),
                ("3,000-character secret", J.Str(Long(3000, r))), ("secret as a number", "1234567890123456789"), ("secret as an object", "{}")]),
        ];
        foreach (var (path, values) in slots)
        {
            foreach (var (kind, json) in values)
            {
                yield return new HostileCase(kind, "POST", "/api/webhooks", J.With(valid, path, J.Raw(json)).ToJsonString(), Admin, Expect.Refused, path);
            }
        }

        foreach (var (kind, text, contentType) in BadBodies(valid, r))
        {
            yield return new HostileCase(kind, "POST", "/api/webhooks", text, Admin, Expect.Refused, null, contentType);
        }

        yield return new HostileCase("webhook registered by an analyst", "POST", "/api/webhooks", valid.ToJsonString(), Analyst, Expect.Refused);
    }

    // ---------- transport ----------

    /// <summary>17 MiB of whitespace inside a valid body, so only the size can refuse it (built when sent, not held per case).</summary>
    private const int Padding17MiB = 17 * 1024 * 1024;

    private static IEnumerable<HostileCase> Transport(Random r)
    {
        (string Path, string Key, string Valid)[] writes =
        [
            ("/api/commitments", Admin, ValidDeal("hostile-transport").ToJsonString()),
            ($"/api/commitments/{Offer}/sign", Admin, """{ "signedOn": "2025-02-01" }"""),
            ($"/api/commitments/{Deal}/milestones/{Pending}/achieve", Admin, AchieveBody),
            ($"/api/commitments/{Deal}/tranches/{Eligible}/release", Admin, """{ "releasedOn": "2025-07-15" }"""),
            ("/api/chips", Admin, """{ "name": "HX-transport", "vendor": "NVIDIA", "purpose": "training" }"""),
            ("/api/providers/AWS/rates", Admin, SeedRates.Replace("2025-01-01", "2026-02-01", StringComparison.Ordinal)),
            ($"/api/commitments/{Deal}/rates", Admin, SeedRates.Replace("2025-01-01", "2026-02-01", StringComparison.Ordinal)),
            ("/api/usage", IngestKey, new JsonObject { ["records"] = new JsonArray(ValidRecord("hostile-transport")) }.ToJsonString()),
            ($"/api/usage/{Usage}/correct", Admin, """{ "chipHours": 1.5, "reason": "meter reset" }"""),
            ("/api/webhooks", Admin, """{ "url": "http://127.0.0.1:9/t", "eventTypes": [ "TrancheReleased" ], "secret": "treasury-hook-secret-1234" }"""),
        ];

        foreach (var (path, key, valid) in writes)
        {
            yield return new HostileCase("valid body as text/plain", "POST", path, valid, key, Expect.Refused, null, "text/plain");
            yield return new HostileCase("valid body as application/xml", "POST", path, valid, key, Expect.Refused, null, "application/xml");
            yield return new HostileCase("valid body as a form", "POST", path, valid, key, Expect.Refused, null, "application/x-www-form-urlencoded");
            yield return new HostileCase("valid body with a garbage Content-Type", "POST", path, valid, key, Expect.Refused, null, "lots/of;;=garbage");
            yield return new HostileCase("no body at all", "POST", path, null, key, Expect.Refused);
            yield return new HostileCase("truncated JSON", "POST", path, valid[..r.Next(1, valid.Length - 1)], key, Expect.Refused);
            yield return new HostileCase("deeply nested JSON (depth 100,000)", "POST", path, Nested(100_000), key, Expect.Refused);
            yield return new HostileCase("invalid UTF-8", "POST", path, null, key, Expect.Refused, null, "application/json",
                RawBody: [.. Encoding.UTF8.GetBytes(valid[..(valid.Length / 2)]), 0xC3, 0x28, 0xFF, 0xFE, .. Encoding.UTF8.GetBytes(valid[(valid.Length / 2)..])]);
            yield return new HostileCase("17 MiB body", "POST", path, valid, key, Expect.Refused, Padding: Padding17MiB);
        }

        yield return new HostileCase("17 MiB NDJSON", "POST", "/api/usage", ValidRecord("hostile-transport-nd").ToJsonString() + "\n", IngestKey, Expect.Refused, null,
            "application/x-ndjson", Padding: Padding17MiB);
    }
}
