using System.Text.Json.Nodes;
using ComputeLedger.Host.Tests.Infrastructure;
using Shouldly;

namespace ComputeLedger.Host.Tests.Infrastructure;

/// <summary>The rows of the hostile-input report, one behaviour each; the generated suite covers the space around them.</summary>
public class Values_outside_the_limits_get_a_400_naming_the_field(LedgerFixture fixture) : LedgerTest(fixture)
{
    private async Task<long> Events() => (long)(await Sql("select count(*) from ledger.mt_events where type <> 'chip_added'"))!;

    private static JsonObject ShouldName(Http.Reply reply, string field)
    {
        reply.Code.ShouldBe(400, reply.ToString());
        reply.ContentType.ShouldBe("application/problem+json");
        var errors = reply.Json["errors"].ShouldBeOfType<JsonObject>();
        errors.Select(e => e.Key).ShouldContain(field, reply.ToString());
        reply.ToString().ShouldNotContain("System.");
        reply.ToString().ShouldNotContain("NodaTime.");
        reply.ToString().ShouldNotContain("ComputeLedger.");
        return errors;
    }

    [Theory]
    [InlineData("signedOn", "\"15/01/2025\"", "expected a date like 2025-01-15")]
    [InlineData("headline", "{ \"amount\": \"lots\", \"currency\": \"USD\" }", "headline.amount")]
    [InlineData("milestones", "[ { \"milestoneId\": 5 } ]", "milestones[0].milestoneId")]
    [InlineData("headline", "{ \"amount\": 1e40, \"currency\": \"USD\" }", "headline.amount")]
    public async Task A_value_of_the_wrong_type_or_format_is_named_in_plain_words(string field, string json, string expected)
    {
        var deal = JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(Deal(), Http.JsonOptions))!.AsObject();
        deal[field] = JsonNode.Parse(json);

        var reply = await Admin.PostJson("/api/commitments", deal.ToJsonString());

        var errors = ShouldName(reply, expected.Contains(' ', StringComparison.Ordinal) ? field : expected);
        if (expected.Contains(' ', StringComparison.Ordinal))
        {
            errors[field]![0]!.GetValue<string>().ShouldContain(expected);
        }

        (await Events()).ShouldBe(0);
    }

    [Theory]
    [InlineData("/api/commitments")]
    [InlineData("/api/chips")]
    [InlineData("/api/providers/AWS/rates")]
    [InlineData("/api/commitments/amazon-anthropic/rates")]
    public async Task A_null_body_is_a_400_naming_the_body(string path)
    {
        await Create(Deal());
        var before = await Events();

        ShouldName(await Admin.PostJson(path, "null"), "body");

        (await Events()).ShouldBe(before);
    }

    [Theory]
    [InlineData("headline", 4_000_000_000.001, "USD", "headline.amount")]
    [InlineData("headline", 1e16, "USD", "headline.amount")]
    [InlineData("headline", 1000, "XYZ", "headline.currency")]
    public async Task Money_outside_the_limits_is_refused(string field, double amount, string currency, string named)
    {
        var deal = Deal();
        deal[field] = new { amount = (decimal)amount, currency };

        ShouldName(await Admin.PostJson("/api/commitments", deal), named);
        (await Events()).ShouldBe(0);
    }

    [Fact]
    public async Task A_commitment_on_a_chip_outside_the_catalog_is_refused()
    {
        var deal = Deal();
        deal["computeCommitment"] = new
        {
            provider = "AWS", chips = new[] { "Trainium2", "Quantum9000" }, committedSpend = Usd(1_000m), termStart = "2025-01-01", termEnd = "2026-01-01",
        };

        var errors = ShouldName(await Admin.PostJson("/api/commitments", deal), "computeCommitment.chips[1]");

        errors["computeCommitment.chips[1]"]![0]!.GetValue<string>().ShouldContain("catalog");
        (await Events()).ShouldBe(0);
    }

    [Fact]
    public async Task Strings_with_control_characters_or_too_long_are_refused_and_never_reach_the_database()
    {
        var deal = Deal();
        deal["investor"] = "Ama\u0000zon";
        ShouldName(await Admin.PostJson("/api/commitments", deal), "investor");

        var chip = await Admin.PostJson("/api/chips", new { name = new string('c', 3000), vendor = "X", purpose = "gaming" });
        ShouldName(chip, "name");
        chip.Json["errors"]!["purpose"].ShouldNotBeNull();

        var path = await Analyst.GetJson($"/api/commitments/{new string('a', 129)}/eligibility");
        ShouldName(path, "id");
        ShouldName(await Analyst.GetJson("/api/spend/chips?provider=A%01B"), "provider");
        ShouldName(await Admin.PostJson("/api/webhooks", new { url = "http://127.0.0.1:9/h", eventTypes = new[] { "MilestoneAchieved" }, secret = "too-short" }), "secret");
        (await Events()).ShouldBe(0);
    }

    [Theory]
    [InlineData("asOf=9999-12-31", "asOf")]
    [InlineData("knownAt=9999-12-31T23:59:59.999999999Z", "knownAt")]
    [InlineData("knownAt=-0001-01-01", "knownAt")]
    [InlineData("asOf=2025-01-01T00:00:00-23:59", null)]
    [InlineData("from=9999-12", "from")]
    public async Task Extreme_time_axes_get_an_answer_or_a_400_naming_the_parameter_on_every_read(string query, string? named)
    {
        await Create(Deal());
        foreach (var path in new[]
        {
            "/api/spend/chips", "/api/revenue/providers", "/api/commitments", "/api/commitments/amazon-anthropic/eligibility",
            "/api/commitments/amazon-anthropic/drawdown", "/api/reconciliation", "/api/explain/spend/AWS/Trainium2/2025-07",
            "/api/export/focus.csv?from=2025-07-01&to=2025-07-31", "/api/export/contract-commitments.csv?from=2025-07-01&to=2025-07-31", "/api/restatements?knownFrom=2025-01-01",
        })
        {
            var reply = await Analyst.GetJson(path + (path.Contains('?', StringComparison.Ordinal) ? "&" : "?") + query);
            reply.Code.ShouldBeLessThan(500, $"{path}?{query}: {reply}");
            if (reply.Code == 400 && named is not null && (path.Contains("spend/chips", StringComparison.Ordinal) || !query.StartsWith("from", StringComparison.Ordinal)))
            {
                reply.Json["errors"]!.AsObject().Select(e => e.Key).ShouldContain(named, $"{path}?{query}");
            }
        }
    }

    [Fact]
    public async Task An_identical_rate_card_posted_again_records_nothing()
    {
        await Create(Deal());
        var card = new
        {
            effectiveFrom = "2025-01-01",
            rates = new object[] { new { chip = "Trainium2", region = (string?)null, pricePerChipHour = Usd(4.10m) } },
        };

        (await Admin.PostJson("/api/providers/AWS/rates", card)).Code.ShouldBe(201);
        var again = await Admin.PostJson("/api/providers/AWS/rates", card);

        again.Code.ShouldBe(200, again.ToString());
        again.Json["cards"]!.AsArray().Count.ShouldBe(1);
        (await CountEvents("rate_card_published")).ShouldBe(1);
    }

    [Fact]
    public async Task A_rate_card_for_a_provider_no_commitment_names_is_a_404()
    {
        var reply = await Admin.PostJson("/api/providers/Nobody/rates", new
        {
            effectiveFrom = "2025-01-01",
            rates = new object[] { new { chip = "H100", region = (string?)null, pricePerChipHour = Usd(1m) } },
        });

        reply.Code.ShouldBe(404, reply.ToString());
        (await CountEvents("rate_card_published")).ShouldBe(0);
    }

    [Fact]
    public async Task A_price_may_have_six_decimals_but_not_seven()
    {
        await Create(Deal());
        object Card(decimal price) => new
        {
            effectiveFrom = "2025-01-01",
            rates = new object[] { new { chip = "Trainium2", region = (string?)null, pricePerChipHour = Usd(price) } },
        };

        (await Admin.PostJson("/api/providers/AWS/rates", Card(4.123456m))).Code.ShouldBe(201);
        ShouldName(await Admin.PostJson("/api/providers/AWS/rates", Card(4.1234567m)), "rates[0].pricePerChipHour.amount");
    }
}
