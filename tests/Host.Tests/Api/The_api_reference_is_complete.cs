using System.Text.Json.Nodes;
using ComputeLedger.Host.Tests.Infrastructure;
using Shouldly;

namespace ComputeLedger.Host.Tests.Api;

/// <summary>
/// The OpenAPI document is what a newcomer tries the API with (/scalar/v1): every operation must say in words what it
/// does, type its answer, list the errors it can return with the problem schema, and require the X-Api-Key scheme.
/// </summary>
public class The_api_reference_is_complete(LedgerFixture fixture) : LedgerTest(fixture)
{
    private static readonly string[] Methods = ["get", "post", "put", "patch", "delete"];

    private async Task<JsonNode> Document()
    {
        var doc = await Anonymous.GetJson("/openapi/v1.json");
        doc.Code.ShouldBe(200);
        return doc.Json;
    }

    private static IEnumerable<(string Path, string Method, JsonObject Operation)> Operations(JsonNode doc) =>
        doc["paths"]!.AsObject().SelectMany(p => p.Value!.AsObject()
            .Where(m => Methods.Contains(m.Key))
            .Select(m => (p.Key, m.Key, m.Value!.AsObject())));

    [Fact]
    public async Task Every_operation_has_a_summary_a_typed_answer_its_errors_and_the_key_requirement()
    {
        var doc = await Document();
        var tags = doc["tags"]!.AsArray().Select(t => t!["name"]!.GetValue<string>()).ToHashSet();
        var operations = Operations(doc).Where(o => o.Path.StartsWith("/api/", StringComparison.Ordinal)).ToList();
        operations.Count.ShouldBeGreaterThan(25);
        var faults = new List<string>();
        foreach (var (path, method, op) in operations)
        {
            var name = $"{method.ToUpperInvariant()} {path}";
            void Check(bool ok, string what)
            {
                if (!ok)
                {
                    faults.Add($"{name}: {what}");
                }
            }

            var summary = op["summary"]?.GetValue<string>() ?? "";
            Check(summary.Contains(' ', StringComparison.Ordinal), "no summary in words");
            Check(!string.IsNullOrWhiteSpace(op["description"]?.GetValue<string>()), "no description");
            var opTags = op["tags"]?.AsArray().Select(t => t!.GetValue<string>()).ToList() ?? [];
            Check(opTags.Count == 1 && tags.Contains(opTags[0]), "not in exactly one of the document's tags");

            var responses = op["responses"]?.AsObject() ?? [];
            var success = responses.Where(r => r.Key.StartsWith('2')).ToList();
            Check(success.Count > 0, "no 2xx answer");
            foreach (var (status, response) in success.Where(r => r.Key != "204"))
            {
                var content = response!["content"]?.AsObject();
                Check(content is { Count: > 0 } && content.All(c => c.Value!["schema"] is JsonObject s && s.Count > 0 && !s.ToJsonString().Contains("IResult", StringComparison.Ordinal)),
                    $"{status} answer is not typed");
            }

            var parameters = op["parameters"]?.AsArray().Select(p => (In: p!["in"]!.GetValue<string>(), Name: p["name"]!.GetValue<string>())).ToList() ?? [];
            var hasBody = op["requestBody"] is not null;
            var expected = new List<string> { "401", "403", "503" };
            if (parameters.Count > 0 || hasBody)
            {
                expected.Add("400");
            }

            if (parameters.Any(p => p.In == "path"))
            {
                expected.Add("404");
            }

            if (hasBody)
            {
                expected.Add("413");
            }

            foreach (var status in expected)
            {
                var schema = responses[status]?["content"]?["application/problem+json"]?["schema"]?["$ref"]?.GetValue<string>();
                Check(schema == "#/components/schemas/ProblemDetails", $"{status} not listed with the ProblemDetails schema");
            }

            var security = op["security"]?.AsArray() ?? [];
            Check(security.Any(r => r!.AsObject().ContainsKey("ApiKey")), "no X-Api-Key security requirement");
        }

        faults.ShouldBeEmpty();
    }

    [Fact]
    public async Task The_document_introduces_the_ledger_declares_the_key_and_types_usage_as_json_and_ndjson()
    {
        var doc = await Document();
        var intro = doc["info"]!["description"]!.GetValue<string>();
        intro.ShouldContain("event-sourced ledger");
        intro.ShouldContain("X-Api-Key");
        intro.ShouldContain("asOf");
        intro.ShouldContain("knownAt");

        var scheme = doc["components"]!["securitySchemes"]!["ApiKey"]!;
        scheme["type"]!.GetValue<string>().ShouldBe("apiKey");
        scheme["in"]!.GetValue<string>().ShouldBe("header");
        scheme["name"]!.GetValue<string>().ShouldBe("X-Api-Key");

        var problem = doc["components"]!["schemas"]!["ProblemDetails"]!["properties"]!.AsObject();
        problem.Select(p => p.Key).ShouldBeSubsetOf(["type", "title", "status", "detail", "instance"]);
        problem.ContainsKey("detail").ShouldBeTrue();

        var usage = doc["paths"]!["/api/usage"]!["post"]!["requestBody"]!["content"]!.AsObject();
        usage.Select(c => c.Key).ShouldBe(["application/json", "application/x-ndjson"], ignoreOrder: true);
        usage["application/json"]!["schema"]!["properties"]!["records"].ShouldNotBeNull();
        usage["application/x-ndjson"]!["schema"]!["properties"]!["usageId"].ShouldNotBeNull();
        doc["paths"]!["/api/spend/chips"]!["get"]!["responses"]!["200"]!["content"]!["application/json"]!["schema"]!["properties"]!["rows"].ShouldNotBeNull();
    }

    [Fact]
    public async Task Statuses_the_api_really_returns_are_the_ones_listed()
    {
        var doc = await Document();
        string[] Listed(string path, string method) => doc["paths"]![path]![method]!["responses"]!.AsObject().Select(r => r.Key).ToArray();

        (await Anonymous.GetJson("/api/commitments")).Code.ToString(System.Globalization.CultureInfo.InvariantCulture).ShouldBeOneOf(Listed("/api/commitments", "get"));
        (await Analyst.GetJson("/api/commitments/nobody/eligibility")).Code.ToString(System.Globalization.CultureInfo.InvariantCulture)
            .ShouldBeOneOf(Listed("/api/commitments/{id}/eligibility", "get"));
        (await Analyst.GetJson("/api/spend/chips?from=garbage")).Code.ToString(System.Globalization.CultureInfo.InvariantCulture).ShouldBeOneOf(Listed("/api/spend/chips", "get"));
        (await Analyst.PostJson("/api/commitments", new { })).Code.ToString(System.Globalization.CultureInfo.InvariantCulture).ShouldBeOneOf(Listed("/api/commitments", "post"));
        (await Ingest.PostJson("/api/usage", new { records = Array.Empty<object>() })).Code.ToString(System.Globalization.CultureInfo.InvariantCulture)
            .ShouldBeOneOf(Listed("/api/usage", "post"));
    }
}
