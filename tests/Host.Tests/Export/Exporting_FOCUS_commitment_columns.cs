using System.Globalization;
using System.Text.Json.Nodes;
using ComputeLedger.Host.Tests.Infrastructure;
using ComputeLedger.Host.Tests.Usage;
using Shouldly;

namespace ComputeLedger.Host.Tests.Export;

/// <summary>
/// FOCUS 1.3: the usage export's commitment columns and ContractApplied, and the Contract Commitment dataset they join to.
/// The deal is arranged (recorded) on 2025-06-01; it was signed on 2024-03-27, its compute term runs 2025-01-01..2027-01-01.
/// </summary>
public sealed class Exporting_FOCUS_commitment_columns(LedgerFixture fixture) : UsageTest(fixture)
{
    protected override DateTimeOffset? ArrangedAt => new DateTimeOffset(2025, 6, 1, 0, 0, 0, TimeSpan.Zero);

    private static decimal Dec(string s) => decimal.Parse(s, CultureInfo.InvariantCulture);

    private async Task<List<Dictionary<string, string>>> Export(string path) =>
        Csv.Rows(await Analyst.GetStringAsync(path, TestContext.Current.CancellationToken));

    private async Task History()
    {
        (await Post(Record("jul-1", 2m), Record("jul-2", 3m, region: null, start: "2025-07-02T00:00:00Z", end: "2025-07-02T01:00:00Z"),
            Record("aug-1", 1m, chip: "Inferentia2", start: "2025-08-03T00:00:00Z", end: "2025-08-03T01:00:00Z"))).Json["accepted"]!.GetValue<int>().ShouldBe(3);
        (await Admin.PostJson("/api/usage/jul-2/void", new { reason = "meter fault" })).Code.ShouldBe(200);
        await CatchUp();
    }

    [Fact]
    public async Task Every_charge_names_its_commitment_used_and_applies_its_cost_to_the_compute_line()
    {
        await History();

        var rows = await Export("/api/export/focus.csv?from=2025-07-01&to=2025-08-31");

        rows.Count.ShouldBe(4); // three charges and the void's correction
        foreach (var r in rows)
        {
            r["CommitmentDiscountId"].ShouldBe("amazon-anthropic");
            r["CommitmentDiscountCategory"].ShouldBe("Spend");
            r["CommitmentDiscountStatus"].ShouldBe("Used");
            r["CommitmentDiscountType"].ShouldBe("Compute Commitment");
            r["CommitmentDiscountName"].ShouldBe("AWS compute commitment amazon-anthropic");
            Dec(r["CommitmentDiscountQuantity"]).ShouldBe(Dec(r["BilledCost"]));
            r["CommitmentDiscountUnit"].ShouldBe(r["BillingCurrency"]);
            r["ServiceProviderName"].ShouldBe("AWS");

            var applied = JsonNode.Parse(r["ContractApplied"])!["Elements"]!.AsArray().Single()!;
            applied["ContractId"]!.GetValue<string>().ShouldBe("amazon-anthropic");
            applied["ContractCommitmentId"]!.GetValue<string>().ShouldBe("amazon-anthropic:compute");
            applied["ContractCommitmentAppliedCost"]!.GetValue<decimal>().ShouldBe(Dec(r["BilledCost"]));
        }

        rows.Single(r => r["ChargeClass"] == "Correction")["CommitmentDiscountQuantity"].ShouldBe("-12.00"); // 3 h at the any-region 4.00
    }

    [Fact]
    public async Task The_null_rules_of_FOCUS_1_3_hold_on_every_row_of_both_files()
    {
        await History();

        foreach (var r in await Export("/api/export/focus.csv?from=2025-07-01&to=2025-08-31"))
        {
            // Category, status, type and name are null exactly when the id is; the unit exactly when the quantity is;
            // ContractApplied is not null when a contract commitment is applied (every charge here draws on one).
            var related = r["CommitmentDiscountId"].Length > 0;
            foreach (var column in new[] { "CommitmentDiscountCategory", "CommitmentDiscountStatus", "CommitmentDiscountType", "CommitmentDiscountName" })
            {
                (r[column].Length > 0).ShouldBe(related, column);
            }

            (r["CommitmentDiscountUnit"].Length > 0).ShouldBe(r["CommitmentDiscountQuantity"].Length > 0);
            if (r["ChargeClass"] != "Correction")
            {
                r["CommitmentDiscountQuantity"].ShouldNotBeEmpty();
            }

            r["ContractApplied"].ShouldNotBeEmpty();
        }

        var commitments = await Export("/api/export/contract-commitments.csv?from=2025-07-01&to=2025-08-31");
        commitments.ShouldNotBeEmpty();
        foreach (var c in commitments)
        {
            foreach (var column in new[] { "BillingCurrency", "ContractCommitmentCategory", "ContractCommitmentDescription", "ContractCommitmentId",
                         "ContractCommitmentPeriodStart", "ContractCommitmentPeriodEnd", "ContractCommitmentType", "ContractId", "ContractPeriodStart", "ContractPeriodEnd" })
            {
                c[column].ShouldNotBeEmpty(column);
            }

            // Cost and quantity are never both null; the unit is null exactly when the quantity is.
            (c["ContractCommitmentCost"].Length > 0 || c["ContractCommitmentQuantity"].Length > 0).ShouldBeTrue();
            (c["ContractCommitmentUnit"].Length > 0).ShouldBe(c["ContractCommitmentQuantity"].Length > 0);
            c["ContractCommitmentCategory"].ShouldBeOneOf("Spend", "Usage");
        }
    }

    [Fact]
    public async Task The_contract_commitment_dataset_has_the_compute_line_and_each_tranche_of_a_signed_deal()
    {
        var text = await Analyst.GetStringAsync("/api/export/contract-commitments.csv?from=2025-07-01&to=2025-07-31", TestContext.Current.CancellationToken);
        text.Split('\n')[0].TrimEnd('\r').ShouldBe("BillingCurrency,ContractCommitmentCategory,ContractCommitmentCost,ContractCommitmentDescription,ContractCommitmentId,"
            + "ContractCommitmentPeriodStart,ContractCommitmentPeriodEnd,ContractCommitmentQuantity,ContractCommitmentType,ContractCommitmentUnit,ContractId,"
            + "ContractPeriodStart,ContractPeriodEnd,ServiceProviderName");
        var rows = Csv.Rows(text);

        rows.Select(r => $"{r["ContractCommitmentId"]}|{r["ContractCommitmentType"]}|{r["ContractCommitmentCost"]}").ShouldBe([
            "amazon-anthropic:compute|Compute Commitment|1000000",
            "amazon-anthropic:tranche:upfront|Investment Tranche|5000000000",
            "amazon-anthropic:tranche:t1|Investment Tranche|8000000000",
            "amazon-anthropic:tranche:t2|Investment Tranche|12000000000",
        ]);
        var compute = rows[0];
        compute["ContractId"].ShouldBe("amazon-anthropic");
        compute["BillingCurrency"].ShouldBe("USD");
        compute["ContractCommitmentCategory"].ShouldBe("Spend");
        compute["ContractCommitmentQuantity"].ShouldBeEmpty();
        compute["ContractCommitmentUnit"].ShouldBeEmpty();
        compute["ContractCommitmentPeriodStart"].ShouldBe("2025-01-01T00:00:00Z");
        compute["ContractCommitmentPeriodEnd"].ShouldBe("2027-01-01T00:00:00Z");
        compute["ServiceProviderName"].ShouldBe("AWS");
    }

    [Theory]
    [InlineData("2025-07-01", "2025-07-31")]
    [InlineData("2025-08-01", "2025-08-31")]
    public async Task The_applied_costs_of_a_period_sum_to_its_usage_cost_and_each_joins_a_contract_commitment(string from, string to)
    {
        await History();

        var charges = await Export($"/api/export/focus.csv?from={from}&to={to}");
        var lines = (await Export($"/api/export/contract-commitments.csv?from={from}&to={to}")).ToDictionary(c => c["ContractCommitmentId"]);

        var applied = 0m;
        foreach (var r in charges)
        {
            foreach (var element in JsonNode.Parse(r["ContractApplied"])!["Elements"]!.AsArray())
            {
                applied += element!["ContractCommitmentAppliedCost"]!.GetValue<decimal>();
                var line = lines[element["ContractCommitmentId"]!.GetValue<string>()]; // the join: it must exist
                line["ContractId"].ShouldBe(element["ContractId"]!.GetValue<string>());
                line["BillingCurrency"].ShouldBe(r["BillingCurrency"]);
                line["ServiceProviderName"].ShouldBe(r["ServiceProviderName"]);
                Instant(line["ContractCommitmentPeriodStart"]).ShouldBeLessThanOrEqualTo(Instant(r["ChargePeriodStart"]));
                Instant(line["ContractCommitmentPeriodEnd"]).ShouldBeGreaterThan(Instant(r["ChargePeriodStart"]));
            }
        }

        charges.ShouldNotBeEmpty();
        applied.ShouldBe(charges.Sum(r => Dec(r["BilledCost"])));
        var month = from[..7];
        var spend = await Analyst.GetJson($"/api/spend/chips?from={month}&to={month}");
        applied.ShouldBe(spend.Json["rows"]!.AsArray().Sum(r => r!["spend"].Amount()));
    }

    private static DateTimeOffset Instant(string s) => DateTimeOffset.Parse(s, CultureInfo.InvariantCulture);

    [Fact]
    public async Task Both_time_axes_and_the_window_decide_which_commitments_are_in_the_dataset()
    {
        const string Path = "/api/export/contract-commitments.csv?from=2025-07-01&to=2025-07-31";
        (await Export(Path + "&knownAt=2025-05-31")).ShouldBeEmpty(); // recorded on 2025-06-01
        (await Export(Path + "&knownAt=2025-06-02")).Count.ShouldBe(4);
        (await Export(Path + "&asOf=2024-03-26")).ShouldBeEmpty(); // signed on 2024-03-27
        (await Export(Path + "&asOf=2024-03-27")).Count.ShouldBe(4);
        (await Export("/api/export/contract-commitments.csv?from=2027-01-01&to=2027-12-31")).ShouldBeEmpty(); // after the term

        var offer = Deal("offer-only", status: "Offered");
        offer["computeCommitment"] = new { provider = "AWS", chips = new[] { "Trainium2" }, committedSpend = Usd(10m), termStart = "2025-01-01", termEnd = "2026-01-01" };
        await Create(offer);
        (await Export(Path)).ShouldAllBe(r => r["ContractId"] == "amazon-anthropic"); // an unsigned offer commits nobody
    }

    [Theory]
    [InlineData("from=2025-07-01&to=July", "to")]
    [InlineData("to=2025-07-31", "from")]
    [InlineData("from=2025-07-01&to=2025-07-31&knownAt=soon", "knownAt")]
    public async Task A_bad_window_is_a_400_naming_the_parameter(string query, string field)
    {
        var reply = await Analyst.GetJson($"/api/export/contract-commitments.csv?{query}");
        reply.Code.ShouldBe(400, reply.ToString());
        reply.ToString().ShouldContain(field);
    }
}
