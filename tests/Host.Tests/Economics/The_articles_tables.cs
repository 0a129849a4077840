// Over 200 lines: the three tables of the article with their hand-computed expectations, kept next to the history
// they are computed from.
using System.Text.Json.Nodes;
using ComputeLedger.Host.Tests.Infrastructure;
using Shouldly;

namespace ComputeLedger.Host.Tests.Economics;

/// <summary>
/// The article's three tables from the ledger (issue 13 §1-§3) against hand-computed figures, on both time axes.
/// History (each line recorded at its own known time):
/// <code>
/// 2025-06-01  deals: amazon-anthropic (AWS, headline 10,000 = upfront 2,000 + t1 3,000 on m1 + t2 5,000 on m2, signed 2025-01-15,
///             compute 1,000,000), microsoft-openai (Azure, 1,000 upfront, signed 2024-01-10, compute 5,000), amazon-openai
///             (AWS, offered 50,000, declined), sequoia-anthropic (investor without a cloud, 100 upfront, compute 100);
///             rates AWS Trainium2 4.00, Inferentia2 1.25; Azure H100 8.00, L40S 2.00 (from 2024-01-01)
/// 2025-08-02  usage: u0 Trainium2 50 h on 2024-12-10 (200); u1 Trainium2 100 h on 2025-07-01 (400);
///             u2 Inferentia2 40 h, 50M tokens on 2025-07-02 (50); u3 H100 50 h on 2025-07-03 (400); u4 L40S 10 h on 2025-07-04 (20)
/// 2025-08-10  specs from 2024-01-01: Trainium2 800 TFLOPS, 2.1 TFLOPS/W, list 1.50; H100 1000, 2.0, list 2.00;
///             Inferentia2 latency 45 ms, list 0.80 (no TFLOPS); L40S none
/// 2025-08-20  Trainium2 from 2025-09-01: 900 TFLOPS
/// 2025-09-10  u1 corrected to 120 h (480); m1 achieved on 2025-08-01
/// 2025-09-12  t1 released on 2025-09-12
/// </code>
/// </summary>
public class The_articles_tables(LedgerFixture fixture) : LedgerTest(fixture)
{
    private static DateTimeOffset At(string day, int hour = 12) => DateTimeOffset.Parse($"{day}T{hour:D2}:00:00Z", System.Globalization.CultureInfo.InvariantCulture);

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        Fixture.Time.Pinned = At("2025-06-01");
        await Create(Commitment("amazon-anthropic", "Amazon", "Anthropic", "AWS", 10_000m, 2_000m, "2025-01-15", ["Trainium2", "Inferentia2"], 1_000_000m,
            tranches: [("t1", 3_000m, "m1"), ("t2", 5_000m, "m2")]));
        await Create(Commitment("microsoft-openai", "Microsoft", "OpenAI", "Microsoft Azure", 1_000m, 1_000m, "2024-01-10", ["H100", "L40S"], 5_000m));
        await Create(Commitment("amazon-openai", "Amazon", "OpenAI", "AWS", 50_000m, 50_000m, null, ["Trainium2"], 50_000m));
        (await Admin.PostJson("/api/commitments/amazon-openai/decline", new { declinedOn = "2024-09-30", reason = "went elsewhere" })).Code.ShouldBe(200);
        await Create(Commitment("sequoia-anthropic", "Sequoia", "Anthropic", "AWS", 100m, 100m, "2025-01-01", ["Trainium2"], 100m));
        await Rates("AWS", ("Trainium2", 4.00m), ("Inferentia2", 1.25m));
        await Rates("Microsoft Azure", ("H100", 8.00m), ("L40S", 2.00m));

        Fixture.Time.Pinned = At("2025-08-02", 6);
        var aws = await Ingest.PostJson("/api/usage", new
        {
            records = new object[]
            {
                Usage.UsageTest.Record("u0", 50m, "Trainium2", "us-east-1", "2024-12-10T00:00:00Z", "2024-12-10T01:00:00Z"),
                Usage.UsageTest.Record("u1", 100m, "Trainium2", "us-east-1", "2025-07-01T00:00:00Z", "2025-07-01T01:00:00Z"),
                Usage.UsageTest.Record("u2", 40m, "Inferentia2", "us-east-1", "2025-07-02T00:00:00Z", "2025-07-02T01:00:00Z", tokens: 50_000_000),
            },
        });
        aws.Json["accepted"]!.GetValue<int>().ShouldBe(3, aws.ToString());
        var azure = await Admin.PostJson("/api/usage", new
        {
            records = new object[]
            {
                Usage.UsageTest.Record("u3", 50m, "H100", "eastus", "2025-07-03T00:00:00Z", "2025-07-03T01:00:00Z", "microsoft-openai", "Microsoft Azure"),
                Usage.UsageTest.Record("u4", 10m, "L40S", "eastus", "2025-07-04T00:00:00Z", "2025-07-04T01:00:00Z", "microsoft-openai", "Microsoft Azure"),
            },
        });
        azure.Json["accepted"]!.GetValue<int>().ShouldBe(2, azure.ToString());

        Fixture.Time.Pinned = At("2025-08-10");
        await Specs("Trainium2", new { effectiveFrom = "2024-01-01", fp16Tflops = 800m, tflopsPerWatt = 2.1m, listCostPer1MTokens = Usd(1.50m) });
        await Specs("H100", new { effectiveFrom = "2024-01-01", fp16Tflops = 1000m, tflopsPerWatt = 2.0m, listCostPer1MTokens = Usd(2.00m) });
        await Specs("Inferentia2", new { effectiveFrom = "2024-01-01", inferenceLatencyMs = 45m, listCostPer1MTokens = Usd(0.80m) });

        Fixture.Time.Pinned = At("2025-08-20");
        await Specs("Trainium2", new { effectiveFrom = "2025-09-01", fp16Tflops = 900m, tflopsPerWatt = 2.1m, listCostPer1MTokens = Usd(1.50m) });

        Fixture.Time.Pinned = At("2025-09-10");
        (await Admin.PostJson("/api/usage/u1/correct", new { chipHours = 120m, reason = "meter fault" })).Code.ShouldBe(200);
        (await Admin.PostJson("/api/commitments/amazon-anthropic/milestones/m1/achieve", new { achievedOn = "2025-08-01", evidence = "seen" })).Code.ShouldBe(200);

        Fixture.Time.Pinned = At("2025-09-12");
        (await Admin.PostJson("/api/commitments/amazon-anthropic/tranches/t1/release", new { releasedOn = "2025-09-12" })).Code.ShouldBe(200);
        Fixture.Time.Pinned = null;
        await CatchUp();
    }

    // ---------- §1 chip economics ----------

    [Fact]
    public async Task Chip_economics_normalise_to_H100_hours_and_leave_unknown_figures_null()
    {
        var rows = await Economics("from=2025-07&to=2025-07");
        rows.Keys.ShouldBe(["H100|Microsoft Azure", "Inferentia2|AWS", "L40S|Microsoft Azure", "Trainium2|AWS"], ignoreOrder: true);

        var h100 = rows["H100|Microsoft Azure"];
        Money(h100["spend"]).ShouldBe(400m);
        Money(h100["pricePerChipHour"]).ShouldBe(8m);
        Number(h100["h100EquivalentHours"]).ShouldBe(50m);
        Money(h100["costPerH100EquivalentHour"]).ShouldBe(8m);
        Number(h100["savingVsH100"]).ShouldBe(0m);
        Number(h100["energyKWh"]).ShouldBe(25m);                 // 50 h × 1000 TFLOPS ÷ 2.0 TFLOPS/W ÷ 1000
        h100["costPer1MTokens"].ShouldBeNull();                   // no tokens reported
        Money(h100["listCostPer1MTokens"]).ShouldBe(2.00m);

        var trainium = rows["Trainium2|AWS"];
        Number(trainium["chipHours"]).ShouldBe(120m);            // corrected from 100
        Money(trainium["spend"]).ShouldBe(480m);
        Money(trainium["pricePerChipHour"]).ShouldBe(4m);
        Number(trainium["fp16Tflops"]).ShouldBe(800m);           // the figure in force on 2025-07-31, not the later 900
        Number(trainium["h100EquivalentHours"]).ShouldBe(96m);   // 120 × 800 ÷ 1000
        Money(trainium["costPerH100EquivalentHour"]).ShouldBe(5m);
        Number(trainium["savingVsH100"]).ShouldBe(0.375m);       // 1 − 5 ÷ 8
        Number(trainium["energyKWh"]).ShouldBe(45.714286m);      // 120 × 800 ÷ 2.1 ÷ 1000
        Money(trainium["listCostPer1MTokens"]).ShouldBe(1.50m);
        trainium["costPer1MTokens"].ShouldBeNull();

        var inferentia = rows["Inferentia2|AWS"];
        Number(inferentia["tokens"]).ShouldBe(50_000_000m);
        Money(inferentia["costPer1MTokens"]).ShouldBe(1.00m);    // 50 ÷ 50M tokens × 1M
        Money(inferentia["listCostPer1MTokens"]).ShouldBe(0.80m);
        Number(inferentia["inferenceLatencyMs"]).ShouldBe(45m);
        foreach (var unknown in new[] { "fp16Tflops", "h100EquivalentHours", "costPerH100EquivalentHour", "energyKWh", "savingVsH100", "tflopsPerWatt" })
        {
            inferentia[unknown].ShouldBeNull(unknown);           // no TFLOPS published: null, never 0
        }

        var l40s = rows["L40S|Microsoft Azure"];
        Money(l40s["pricePerChipHour"]).ShouldBe(2m);
        foreach (var unknown in new[] { "fp16Tflops", "listCostPer1MTokens", "tflopsPerWatt", "inferenceLatencyMs", "h100EquivalentHours", "savingVsH100", "energyKWh" })
        {
            l40s[unknown].ShouldBeNull(unknown);
        }

        // One provider: its chips only, measured against the H100 hours of every provider.
        var aws = await Economics("from=2025-07&to=2025-07&provider=AWS");
        aws.Keys.ShouldBe(["Inferentia2|AWS", "Trainium2|AWS"], ignoreOrder: true);
        Number(aws["Trainium2|AWS"]["savingVsH100"]).ShouldBe(0.375m);

        // December 2024 had no H100 hour: nothing to compare with, so no saving (not 0).
        var december = await Economics("from=2024-12&to=2024-12");
        Number(december["Trainium2|AWS"]["h100EquivalentHours"]).ShouldBe(40m);
        december["Trainium2|AWS"]["savingVsH100"].ShouldBeNull();
    }

    [Fact]
    public async Task Chip_economics_on_both_time_axes()
    {
        // Known on 2025-08-05: the uncorrected 100 h, and no figures published yet.
        var early = await Economics("from=2025-07&to=2025-07&knownAt=2025-08-05");
        Number(early["Trainium2|AWS"]["chipHours"]).ShouldBe(100m);
        Money(early["Trainium2|AWS"]["pricePerChipHour"]).ShouldBe(4m);
        early["Trainium2|AWS"]["fp16Tflops"].ShouldBeNull();
        early["Trainium2|AWS"]["h100EquivalentHours"].ShouldBeNull();
        early["Trainium2|AWS"]["savingVsH100"].ShouldBeNull();
        Money(early["Inferentia2|AWS"]["costPer1MTokens"]).ShouldBe(1.00m);

        // Known on 2025-08-15: the figures, not yet the correction.
        var known = await Economics("from=2025-07&to=2025-07&knownAt=2025-08-15");
        Number(known["Trainium2|AWS"]["h100EquivalentHours"]).ShouldBe(80m);
        Money(known["Trainium2|AWS"]["costPerH100EquivalentHour"]).ShouldBe(5m);

        // As of 2025-10-31 the 900-TFLOPS figure is in force: 120 × 900 ÷ 1000 = 108 H100 hours at 480 ÷ 108.
        var later = await Economics("from=2025-07&to=2025-12&asOf=2025-10-31");
        Number(later["Trainium2|AWS"]["h100EquivalentHours"]).ShouldBe(108m);
        Money(later["Trainium2|AWS"]["costPerH100EquivalentHour"]).ShouldBe(4.444444m);
        Number(later["Trainium2|AWS"]["savingVsH100"]).ShouldBe(0.444444m);   // 1 − (480 ÷ 108) ÷ 8
        Number(later["Trainium2|AWS"]["energyKWh"]).ShouldBe(51.428571m);     // 120 × 900 ÷ 2.1 ÷ 1000

        // Known at 2025-08-15, the 900 figure was not yet published: 800 applies even as of October.
        var before = await Economics("from=2025-07&to=2025-12&asOf=2025-10-31&knownAt=2025-08-15");
        Number(before["Trainium2|AWS"]["fp16Tflops"]).ShouldBe(800m);

        (await Economics("from=2025-07&to=2025-07&asOf=2025-06-30")).ShouldBeEmpty();
    }

    [Fact]
    public async Task Chip_specs_are_published_effective_dated_and_listed()
    {
        var chips = (await Analyst.GetJson("/api/chips")).Json.AsArray().ToDictionary(c => c!["name"]!.GetValue<string>(), c => c!);
        var trainium = chips["Trainium2"];
        Number(trainium["specs"]!["fp16Tflops"]).ShouldBe(900m);         // in force today
        trainium["specs"]!["effectiveFrom"]!.GetValue<string>().ShouldBe("2025-09-01");
        trainium["specHistory"]!.AsArray().Count.ShouldBe(2);
        chips["L40S"]["specs"].ShouldBeNull();
        chips["Inferentia2"]["specs"]!["fp16Tflops"].ShouldBeNull();

        var events = await CountEvents("chip_specs_published");
        var again = await Admin.PostJson("/api/chips/Trainium2/specs", new { effectiveFrom = "2025-09-01", fp16Tflops = 900m, tflopsPerWatt = 2.1m, listCostPer1MTokens = Usd(1.50m) });
        again.Code.ShouldBe(200, again.ToString());                          // the same publication again adds nothing
        (await CountEvents("chip_specs_published")).ShouldBe(events);

        (await Admin.PostJson("/api/chips/NoSuchChip/specs", new { effectiveFrom = "2025-09-01", fp16Tflops = 1m })).Code.ShouldBe(404);
        var refused = await Admin.PostJson("/api/chips/H100/specs", new { effectiveFrom = "2025-09-01", fp16Tflops = 0m });
        refused.Code.ShouldBe(400);
        refused.Json["errors"]!["fp16Tflops"].ShouldNotBeNull();
        (await Analyst.PostJson("/api/chips/H100/specs", new { effectiveFrom = "2025-09-01", fp16Tflops = 1m })).Code.ShouldBe(403);
        (await CountEvents("chip_specs_published")).ShouldBe(events);
    }

    // ---------- §2 deals ----------

    [Fact]
    public async Task Deals_show_firm_and_contingent_money_and_the_round_trip()
    {
        var (deals, investors) = await Deals("");
        var anthropic = deals["amazon-anthropic"];
        Money(anthropic["upfront"]).ShouldBe(2_000m);
        Money(anthropic["released"]).ShouldBe(3_000m);
        Money(anthropic["eligible"]).ShouldBe(0m);
        Money(anthropic["locked"]).ShouldBe(5_000m);
        Number(anthropic["firmShare"]).ShouldBe(0.5m);                   // (2,000 + 3,000) ÷ 10,000
        Number(anthropic["contingentShare"]).ShouldBe(0.5m);
        Money(anthropic["committedCompute"]).ShouldBe(1_000_000m);
        Money(anthropic["consumed"]).ShouldBe(730m);                     // 200 + 480 + 50
        anthropic["investorCloud"]!.GetValue<string>().ShouldBe("AWS");
        Money(anthropic["consumedOnInvestorCloud"]).ShouldBe(730m);      // Anthropic on AWS, under either of its AWS deals
        Number(anthropic["roundTrip"]).ShouldBe(0.146m);                 // 730 ÷ (2,000 + 3,000)

        var microsoft = deals["microsoft-openai"];
        Number(microsoft["firmShare"]).ShouldBe(1m);
        Number(microsoft["contingentShare"]).ShouldBe(0m);
        Number(microsoft["roundTrip"]).ShouldBe(0.42m);                  // (400 + 20) ÷ 1,000 on Azure

        var declined = deals["amazon-openai"];
        declined["status"]!.GetValue<string>().ShouldBe("Declined");
        Money(declined["headline"]).ShouldBe(50_000m);
        Money(declined["locked"]).ShouldBe(0m);
        declined["roundTrip"].ShouldBeNull();                            // nothing was paid

        var sequoia = deals["sequoia-anthropic"];
        sequoia["investorCloud"].ShouldBeNull();
        sequoia["consumedOnInvestorCloud"].ShouldBeNull();
        sequoia["roundTrip"].ShouldBeNull();                             // an investor without a cloud

        var amazon = investors["Amazon"];
        Money(amazon["headline"]).ShouldBe(60_000m);
        Money(amazon["firm"]).ShouldBe(5_000m);
        Money(amazon["contingent"]).ShouldBe(5_000m);
        Money(amazon["declined"]).ShouldBe(50_000m);
        amazon["deals"]!.GetValue<int>().ShouldBe(2);
    }

    [Fact]
    public async Task Deals_on_both_time_axes()
    {
        // Known 2025-09-11: m1 achieved, t1 not yet released; the correction known.
        var (achieved, _) = await Deals("?knownAt=2025-09-11");
        Money(achieved["amazon-anthropic"]["released"]).ShouldBe(0m);
        Money(achieved["amazon-anthropic"]["eligible"]).ShouldBe(3_000m);
        Number(achieved["amazon-anthropic"]["firmShare"]).ShouldBe(0.2m);
        Number(achieved["amazon-anthropic"]["contingentShare"]).ShouldBe(0.5m);
        Number(achieved["amazon-anthropic"]["roundTrip"]).ShouldBe(0.365m);   // 730 ÷ 2,000

        // Known 2025-08-05: nothing achieved, the uncorrected usage.
        var (early, earlyInvestors) = await Deals("?knownAt=2025-08-05");
        Money(early["amazon-anthropic"]["locked"]).ShouldBe(8_000m);
        Number(early["amazon-anthropic"]["contingentShare"]).ShouldBe(0.8m);
        Money(early["amazon-anthropic"]["consumed"]).ShouldBe(650m);
        Number(early["amazon-anthropic"]["roundTrip"]).ShouldBe(0.325m);
        Money(earlyInvestors["Amazon"]["contingent"]).ShouldBe(8_000m);

        // As of 2025-07-31: m1 (achieved 2025-08-01) not yet; as of 2025-08-31: eligible, not released.
        var (july, _) = await Deals("?asOf=2025-07-31");
        Money(july["amazon-anthropic"]["locked"]).ShouldBe(8_000m);
        Number(july["amazon-anthropic"]["firmShare"]).ShouldBe(0.2m);
        var (august, _) = await Deals("?asOf=2025-08-31");
        Money(august["amazon-anthropic"]["eligible"]).ShouldBe(3_000m);
        Money(august["amazon-anthropic"]["released"]).ShouldBe(0m);

        // Known before the deals were recorded: no deal.
        (await Deals("?knownAt=2025-05-31")).Deals.ShouldBeEmpty();
    }

    // ---------- §3 provider growth ----------

    [Fact]
    public async Task Yearly_revenue_has_growth_share_and_year_end_backlog()
    {
        var rows = await Yearly("from=2024&to=2025");
        var aws2024 = rows["AWS|2024"];
        Money(aws2024["revenue"]).ShouldBe(200m);
        aws2024["growthYoY"].ShouldBeNull();                              // no 2023
        Number(aws2024["share"]).ShouldBe(1m);
        Money(aws2024["backlog"]).ShouldBe(0m);                          // no AWS deal was signed by 2024-12-31

        var azure2024 = rows["Microsoft Azure|2024"];
        Money(azure2024["revenue"]).ShouldBe(0m);
        Number(azure2024["share"]).ShouldBe(0m);
        Money(azure2024["backlog"]).ShouldBe(5_000m);

        var aws2025 = rows["AWS|2025"];
        Money(aws2025["revenue"]).ShouldBe(530m);                        // 480 + 50
        Number(aws2025["growthYoY"]).ShouldBe(1.65m);                    // 530 ÷ 200 − 1
        Number(aws2025["share"]).ShouldBe(0.557895m);                    // 530 ÷ 950
        Money(aws2025["backlog"]).ShouldBe(999_370m);                    // (1,000,000 − 730) + (100 − 0)
        aws2025["activeCommitments"]!.GetValue<int>().ShouldBe(2);

        var azure2025 = rows["Microsoft Azure|2025"];
        Money(azure2025["revenue"]).ShouldBe(420m);
        azure2025["growthYoY"].ShouldBeNull();                           // no 2024 revenue to grow from
        Number(azure2025["share"]).ShouldBe(0.442105m);
        Money(azure2025["backlog"]).ShouldBe(4_580m);

        var only = await Yearly("from=2024&to=2025&provider=AWS");
        only.Keys.ShouldBe(["AWS|2024", "AWS|2025"], ignoreOrder: true);
        Number(only["AWS|2025"]["share"]).ShouldBe(0.557895m);           // still a share of every provider
    }

    [Fact]
    public async Task Yearly_revenue_on_both_time_axes()
    {
        var early = await Yearly("from=2024&to=2025&knownAt=2025-08-05");
        Money(early["AWS|2025"]["revenue"]).ShouldBe(450m);              // before the correction
        Number(early["AWS|2025"]["growthYoY"]).ShouldBe(1.25m);
        Number(early["AWS|2025"]["share"]).ShouldBe(0.517241m);          // 450 ÷ 870

        var asOf = await Yearly("from=2024&to=2025&asOf=2024-12-31");
        Money(asOf["AWS|2024"]["revenue"]).ShouldBe(200m);
        asOf.Where(r => r.Key.EndsWith("|2025", StringComparison.Ordinal)).Sum(r => Money(r.Value["revenue"])).ShouldBe(0m);

        var refused = await Analyst.GetJson("/api/revenue/providers/yearly?from=24&to=2025");
        refused.Code.ShouldBe(400);
        refused.Json["errors"]!["from"].ShouldNotBeNull();
        (await Analyst.GetJson("/api/revenue/providers/yearly?from=2026&to=2025")).Json["errors"]!["to"].ShouldNotBeNull();
    }

    // ---------- helpers ----------

    private async Task<Dictionary<string, JsonNode>> Economics(string query)
    {
        var reply = await Analyst.GetJson($"/api/economics/chips?{query}");
        reply.Code.ShouldBe(200, reply.ToString());
        return reply.Json["rows"]!.AsArray().ToDictionary(r => $"{r!["chip"]}|{r["provider"]}", r => r!);
    }

    private async Task<(Dictionary<string, JsonNode> Deals, Dictionary<string, JsonNode> Investors)> Deals(string query)
    {
        var reply = await Analyst.GetJson($"/api/deals{query}");
        reply.Code.ShouldBe(200, reply.ToString());
        return (reply.Json["deals"]!.AsArray().ToDictionary(d => d!["commitmentId"]!.GetValue<string>(), d => d!),
            reply.Json["byInvestor"]!.AsArray().ToDictionary(d => d!["investor"]!.GetValue<string>(), d => d!));
    }

    private async Task<Dictionary<string, JsonNode>> Yearly(string query)
    {
        var reply = await Analyst.GetJson($"/api/revenue/providers/yearly?{query}");
        reply.Code.ShouldBe(200, reply.ToString());
        return reply.Json["rows"]!.AsArray().ToDictionary(r => $"{r!["provider"]}|{r["year"]}", r => r!);
    }

    private static decimal Money(JsonNode? money) => money.Amount();

    private static decimal Number(JsonNode? node) => node!.GetValue<decimal>();

    private async Task Rates(string provider, params (string Chip, decimal Price)[] lines)
    {
        var reply = await Admin.PostJson($"/api/providers/{Uri.EscapeDataString(provider)}/rates", new
        {
            effectiveFrom = "2024-01-01",
            rates = lines.Select(l => new { chip = l.Chip, region = (string?)null, pricePerChipHour = Usd(l.Price) }).ToArray(),
        });
        reply.Code.ShouldBe(201, reply.ToString());
    }

    private async Task Specs(string chip, object body)
    {
        var reply = await Admin.PostJson($"/api/chips/{chip}/specs", body);
        reply.Code.ShouldBe(201, reply.ToString());
    }

    private static Dictionary<string, object?> Commitment(string id, string investor, string partner, string provider, decimal headline, decimal upfront,
        string? signedOn, string[] chips, decimal committed, (string Id, decimal Amount, string Milestone)[]? tranches = null) => new()
    {
        ["commitmentId"] = id,
        ["investor"] = investor,
        ["partner"] = partner,
        ["provider"] = provider,
        ["status"] = signedOn is null ? "Offered" : "Signed",
        ["signedOn"] = signedOn,
        ["structure"] = "test",
        ["headline"] = Usd(headline),
        ["upfront"] = Usd(upfront),
        ["milestones"] = (tranches ?? []).Select(t => new { milestoneId = t.Milestone, description = t.Milestone, kind = "attested" }).ToArray(),
        ["tranches"] = (tranches ?? []).Select(t => new { trancheId = t.Id, amount = Usd(t.Amount), milestones = new[] { t.Milestone } }).ToArray(),
        ["computeCommitment"] = new { provider, chips, committedSpend = Usd(committed), termStart = "2024-01-01", termEnd = "2027-01-01" },
    };
}
