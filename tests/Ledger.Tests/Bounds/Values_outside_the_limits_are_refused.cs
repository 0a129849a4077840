using ComputeLedger.Ledger;
using ComputeLedger.Ledger.Catalog;
using ComputeLedger.Ledger.Commitments;
using ComputeLedger.Ledger.Usage;
using ComputeLedger.Ledger.Usage.Ingesting;
using NodaTime;
using Shouldly;

namespace ComputeLedger.Ledger.Tests.Bounds;

public class Values_outside_the_limits_are_refused
{
    private static readonly Instant Now = Instant.FromUtc(2026, 1, 1, 0, 0);
    private static readonly Instant July = Instant.FromUtc(2025, 7, 1, 0, 0);
    private static readonly CommitmentFacts Deal = new("deal", CommitmentStatus.Signed, "AWS", ["H100"], "USD");

    private static RateBook Book(decimal price) => new([
        new RateCardPublished("AWS", null, new LocalDate(2025, 1, 1), [new ChipRate("H100", null, new Money(price, "USD"))], Now, "test"),
    ]);

    private static UsageSubmission Record(decimal hours = 2m, long? tokens = null, string usageId = "u-1", string? region = "us-east-1", Instant? start = null) =>
        new(usageId, "deal", "AWS", "H100", region, hours, start ?? July, (start ?? July).Plus(Duration.FromHours(1)), tokens);

    private static IReadOnlyList<string> Errors(UsageSubmission record, decimal price = 7m) =>
        UsageRules.Check(record, Deal, Book(price), RateBook.Empty, Now).Errors;

    [Theory]
    [InlineData("USD", 2)]
    [InlineData("JPY", 0)]
    [InlineData("KWD", 3)]
    [InlineData("CLF", 4)]
    [InlineData("EUR", 2)]
    public void Currencies_know_their_minor_unit(string code, int digits) => Currencies.MinorUnit(code).ShouldBe(digits);

    [Theory]
    [InlineData("XYZ")]
    [InlineData("usd")]
    [InlineData("XAU")]
    [InlineData("")]
    [InlineData(null)]
    public void Codes_that_are_not_settlement_currencies_are_refused(string? code) => Limits.Currency(code).ShouldNotBeNull();

    [Fact]
    public void Settled_amounts_keep_to_the_currency_minor_unit_and_to_ten_to_the_fifteen()
    {
        Limits.SettledAmount(4_000_000_000.00m, "USD").ShouldBeNull();
        Limits.SettledAmount(4_000_000_000.001m, "USD").ShouldNotBeNull().ShouldContain("decimals");
        Limits.SettledAmount(1000.5m, "JPY").ShouldNotBeNull();
        Limits.SettledAmount(1_000_000_000_000_000m, "USD").ShouldBeNull();
        Limits.SettledAmount(1_000_000_000_000_000.01m, "USD").ShouldNotBeNull().ShouldContain("10^15");
        Limits.SettledAmount(decimal.MaxValue, "USD").ShouldNotBeNull();
        Limits.Price(4.123456m).ShouldBeNull();
        Limits.Price(4.1234567m).ShouldNotBeNull();
    }

    [Theory]
    [InlineData("aws-2026-01-01-0001", true)]
    [InlineData("urn:meter:1", true)]
    [InlineData("-leading-dash", false)]
    [InlineData("has space", false)]
    [InlineData("nul\0inside", false)]
    [InlineData("line-break-at-the-end\n", false)]
    [InlineData("a", true)]
    [InlineData("9._:-", true)]
    [InlineData("", false)]
    [InlineData(".dot-first", false)]
    [InlineData("caf\u00e9", false)]
    [InlineData("slash/inside", false)]
    public void Ids_are_short_and_from_the_documented_set(string id, bool ok) => (Limits.Id(id) is null).ShouldBe(ok);

    [Fact]
    public void Every_id_of_up_to_three_characters_is_judged_as_the_documented_rule_says()
    {
        // Every string of length 0-3 over the allowed characters and a few neighbours of them, against the rule as a
        // whole-string regular expression (\A...\z: no final line break slips through).
        var rule = new System.Text.RegularExpressions.Regex(@"\A[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}\z");
        var alphabet = "aZ09._:-/ @\n\u00e9[`{";
        var ids = new List<string> { "" };
        for (var length = 1; length <= 3; length++)
        {
            ids.AddRange(ids.Where(id => id.Length == length - 1).SelectMany(id => alphabet.Select(c => id + c)).ToList());
        }

        ids.Count.ShouldBe(1 + 16 + (16 * 16) + (16 * 16 * 16));
        foreach (var id in ids)
        {
            (Limits.Id(id) is null).ShouldBe(rule.IsMatch(id), $"'{id}'");
        }
    }

    [Fact]
    public void Ids_are_at_most_128_characters()
    {
        Limits.Id(new string('a', 128)).ShouldBeNull();
        Limits.Id(new string('a', 129)).ShouldNotBeNull();
    }

    [Fact]
    public void Free_text_keeps_tabs_and_newlines_but_no_other_control_characters_or_broken_unicode()
    {
        Limits.Text("line one\n\tline two").ShouldBeNull();
        Limits.Text("emoji 🚀 fine").ShouldBeNull();
        Limits.Text("bell\u0007").ShouldNotBeNull().ShouldContain("U+0007");
        Limits.Text("nul\u0000").ShouldNotBeNull();
        Limits.Text("half \ud800 pair").ShouldNotBeNull().ShouldContain("surrogate");
        Limits.Text(new string('x', 2001)).ShouldNotBeNull().ShouldContain("2000");
    }

    [Fact]
    public void Names_allow_spaces_for_providers_such_as_Microsoft_Azure()
    {
        Limits.Name("Microsoft Azure").ShouldBeNull();
        Limits.Name("Oracle OCI").ShouldBeNull();
        Limits.Name("x\u0000y").ShouldNotBeNull();
        Limits.Name("AWS\n").ShouldNotBeNull();
        Limits.Name(new string('p', 3000)).ShouldNotBeNull();
    }

    [Fact]
    public void Webhook_secrets_are_at_least_sixteen_characters() =>
        (Limits.Secret("short"), Limits.Secret("0123456789abcdef")).ShouldBe((Limits.Secret("short"), null));

    [Fact]
    public void Dates_outside_2000_to_2100_are_refused()
    {
        Limits.Date(new LocalDate(2000, 1, 1)).ShouldBeNull();
        Limits.Date(new LocalDate(2100, 12, 31)).ShouldBeNull();
        Limits.Date(new LocalDate(1999, 12, 31)).ShouldNotBeNull();
        Limits.Date(new LocalDate(9999, 12, 31)).ShouldNotBeNull();
        Limits.InstantInRange(Instant.FromUtc(2101, 1, 1, 0, 0)).ShouldNotBeNull();
    }

    [Theory]
    [InlineData("1e28")]
    [InlineData("1000000000.000001")]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("1.0000001")]
    public void Chip_hours_outside_zero_to_a_billion_with_six_decimals_are_refused(string hours)
    {
        var errors = Errors(Record(decimal.Parse(hours, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture)));
        errors.ShouldHaveSingleItem().ShouldStartWith("chipHours");
    }

    [Fact]
    public void A_billion_chip_hours_with_six_decimals_is_accepted() =>
        Errors(Record(999_999_999.999999m), price: 0.000001m).ShouldBeEmpty();

    [Theory]
    [InlineData(-1L)]
    [InlineData(1_000_000_000_000_001L)]
    [InlineData(long.MaxValue)]
    public void Tokens_outside_zero_to_ten_to_the_fifteen_are_refused(long tokens) =>
        Errors(Record(tokens: tokens)).ShouldHaveSingleItem().ShouldStartWith("tokens");

    [Fact]
    public void A_record_whose_amount_would_exceed_ten_to_the_fifteen_is_refused_whole() =>
        Errors(Record(hours: 1_000_000_000m), price: 2_000_000m).ShouldHaveSingleItem().ShouldContain("10^15");

    [Fact]
    public void Ids_with_control_characters_or_too_long_are_refused()
    {
        Errors(Record(usageId: "bad\u0000id")).ShouldHaveSingleItem().ShouldStartWith("usageId");
        Errors(Record(usageId: new string('u', 3000))).ShouldHaveSingleItem().ShouldStartWith("usageId");
        Errors(Record(region: "us\u0000east")).ShouldHaveSingleItem().ShouldStartWith("region");
    }

    [Fact]
    public void A_window_before_2000_is_refused() =>
        Errors(Record(start: Instant.FromUtc(1999, 12, 31, 0, 0))).ShouldContain(e => e.StartsWith("start", StringComparison.Ordinal));
}
