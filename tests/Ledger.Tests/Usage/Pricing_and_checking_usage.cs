using ComputeLedger.Ledger;
using ComputeLedger.Ledger.Catalog;
using ComputeLedger.Ledger.Commitments;
using ComputeLedger.Ledger.Usage;
using ComputeLedger.Ledger.Usage.Ingesting;
using ComputeLedger.Ledger.Usage.Correcting;
using NodaTime;
using Shouldly;

namespace ComputeLedger.Ledger.Tests.Usage;

public class Pricing_and_checking_usage
{
    private static readonly Instant Now = Instant.FromUtc(2026, 1, 1, 0, 0);
    private static readonly Instant July = Instant.FromUtc(2025, 7, 1, 0, 0);

    private static Money Usd(decimal amount) => new(amount, "USD");

    private static RateCardPublished Card(LocalDate from, params ChipRate[] rates) => new("AWS", null, from, rates, Now, "test");

    private static readonly RateBook Provider = new([
        Card(new LocalDate(2025, 1, 1), new ChipRate("H100", null, Usd(7m)), new ChipRate("H100", "us-east-1", Usd(6.88m))),
        Card(new LocalDate(2025, 7, 1), new ChipRate("H100", null, Usd(6.50m))),
    ]);

    private static readonly CommitmentFacts Deal = new("deal", CommitmentStatus.Signed, "AWS", ["H100"], "USD");

    private static UsageSubmission Submission(string region = "us-east-1", decimal hours = 2m, Instant? start = null) =>
        new("u-1", "deal", "AWS", "H100", region, hours, start ?? July, (start ?? July).Plus(Duration.FromHours(1)), null);

    [Fact]
    public void An_exact_region_beats_any_region_and_the_latest_effective_card_wins_per_line()
    {
        RateBook.Price(Provider, RateBook.Empty, "H100", "us-east-1", July)!.PricePerChipHour.ShouldBe(Usd(6.88m));
        RateBook.Price(Provider, RateBook.Empty, "H100", "eu-west-1", July)!.PricePerChipHour.ShouldBe(Usd(6.50m));
        RateBook.Price(Provider, RateBook.Empty, "H100", "eu-west-1", July.Minus(Duration.FromDays(1)))!.PricePerChipHour.ShouldBe(Usd(7m));
        RateBook.Price(Provider, RateBook.Empty, "H100", null, Instant.FromUtc(2024, 12, 31, 23, 0)).ShouldBeNull();
    }

    [Fact]
    public void A_commitment_override_beats_the_provider_card_even_for_any_region()
    {
        var overrides = new RateBook([Card(new LocalDate(2025, 1, 1), new ChipRate("H100", null, Usd(5m)))]);

        var rate = RateBook.Price(Provider, overrides, "H100", "us-east-1", July)!;

        rate.PricePerChipHour.ShouldBe(Usd(5m));
        rate.Source.ShouldStartWith("commitment:");
    }

    [Fact]
    public void An_accepted_record_is_priced_and_rounded_to_the_cent()
    {
        var (consumed, errors) = UsageRules.Check(Submission(hours: 1.333m), Deal, Provider, RateBook.Empty, Now);

        errors.ShouldBeEmpty();
        consumed!.Amount.ShouldBe(Usd(9.17m));
        consumed.PricePerChipHour.ShouldBe(Usd(6.88m));
    }

    [Fact]
    public void A_rejected_record_gets_every_reason_at_once()
    {
        var bad = new UsageSubmission(null, "deal", "Azure", "TPU", null, 0m, July, July, null);

        var (consumed, errors) = UsageRules.Check(bad, Deal, Provider, RateBook.Empty, Now);

        consumed.ShouldBeNull();
        errors.Count.ShouldBe(5);
    }

    [Fact]
    public void The_fingerprint_covers_what_was_submitted_not_the_price()
    {
        Submission().Fingerprint().ShouldBe(Submission().Fingerprint());
        Submission().Fingerprint().ShouldNotBe(Submission(hours: 2.5m).Fingerprint());
        Submission(hours: 2m).Fingerprint().ShouldBe(Submission(hours: 2.000m).Fingerprint());
    }

    /// <summary>
    /// Fingerprints are stored with every claim and compared with those of later retries, so their canonical text is a
    /// contract across versions: the fields joined by U+001F, chip-hours without trailing zeros, instants as Unix ticks.
    /// </summary>
    [Fact]
    public void The_fingerprint_is_the_digest_of_its_canonical_text_whatever_the_values()
    {
        static string Canonical(UsageSubmission s) => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(
            string.Join('\u001f', s.UsageId, s.CommitmentId, s.Provider, s.Chip, s.Region ?? "",
                s.ChipHours?.ToString("0.############################", System.Globalization.CultureInfo.InvariantCulture),
                s.Start?.ToUnixTimeTicks(), s.End?.ToUnixTimeTicks(), s.Tokens))));

        var random = new Random(20261130);
        decimal[] hours = [1m, 1.0m, 2.50m, 0.000001m, 79228162514264337593543950335m, 7.9228162514264337593543950335m, 0.0000000000000000000000000001m,
            1000000m, 100.00000000000000000000m, 0m, 0.00m, -1.50m, -0.0m];
        var submissions = hours.Select(h => new UsageSubmission("u-1", "deal", "AWS", "Trainium2", null, h, July, July.Plus(Duration.FromHours(1)), null))
            .Concat(Enumerable.Range(0, 2000).Select(i => new UsageSubmission(
                i % 17 == 0 ? null : $"u-{random.NextInt64()}", i % 13 == 0 ? null : "deal-é", "AWS", i % 2 == 0 ? "Trainium2" : "Inferentia2",
                i % 3 == 0 ? null : "us-east-1",
                i % 11 == 0 ? null : new decimal(random.Next(), random.Next(0, 3), 0, random.Next(0, 5) == 0, (byte)random.Next(0, 29)),
                i % 7 == 0 ? null : Instant.FromUnixTimeTicks(random.NextInt64(-10_000_000_000_000_000, 10_000_000_000_000_000)),
                i % 5 == 0 ? null : July, i % 4 == 0 ? random.NextInt64(long.MinValue, long.MaxValue) : null)))
            .Append(new UsageSubmission(new string('x', 3000), "deal", "AWS", "Trainium2", null, 1.5m, July, July, 1));

        foreach (var s in submissions)
        {
            s.Fingerprint().ShouldBe(Canonical(s), $"{s}");
        }

        // One digest pinned, so a change of the canonical text in both places at once still fails.
        new UsageSubmission("u-1", "deal", "AWS", "Trainium2", "us-east-1", 2.50m, Instant.FromUtc(2025, 7, 1, 0, 0), Instant.FromUtc(2025, 7, 1, 1, 0), null)
            .Fingerprint().ShouldBe(PinnedDigest);
    }

    private const string PinnedDigest = "EFE69EF81F5E6E7DDE67B438E5D740B61671366811DFCEEEAF55CA55FC88397A";

    [Fact]
    public void Voiding_twice_records_one_void_and_a_voided_record_cannot_be_corrected()
    {
        var (consumed, _) = UsageRules.Check(Submission(), Deal, Provider, RateBook.Empty, Now);
        var record = UsageRecord.Fold([consumed!], "u-1")!;

        var voided = UsageCorrectionDecider.Decide(new VoidUsage("u-1", "wrong meter", "test"), record, Now);
        voided.Single().ShouldBeOfType<UsageVoided>().Voided.Amount.ShouldBe(Usd(13.76m));
        var after = UsageRecord.Fold([consumed!, .. voided], "u-1")!;

        UsageCorrectionDecider.Decide(new VoidUsage("u-1", "again", "test"), after, Now).ShouldBeEmpty();
        Should.Throw<RuleViolation>(() => UsageCorrectionDecider.Decide(
                new CorrectUsage("u-1", 1m, null, null, null, null, "test"), after, _ => null, Now))
            .Kind.ShouldBe(ViolationKind.Conflict);
    }

    [Fact]
    public void A_correction_reprices_at_its_new_start_and_a_repeat_changes_nothing()
    {
        var (consumed, _) = UsageRules.Check(Submission(region: "eu-west-1"), Deal, Provider, RateBook.Empty, Now);
        var record = UsageRecord.Fold([consumed!], "u-1")!;
        var june = Instant.FromUtc(2025, 6, 30, 0, 0);

        var corrected = UsageCorrectionDecider.Decide(new CorrectUsage("u-1", null, june, june.Plus(Duration.FromHours(1)), null, "clock", "test"),
            record, at => RateBook.Price(Provider, RateBook.Empty, "H100", "eu-west-1", at), Now).Single().ShouldBeOfType<UsageCorrected>();

        corrected.Before.Amount.ShouldBe(Usd(13.00m));
        corrected.After.Amount.ShouldBe(Usd(14.00m));
        var after = UsageRecord.Fold([consumed!, corrected], "u-1")!;
        UsageCorrectionDecider.Decide(new CorrectUsage("u-1", null, june, null, null, null, "test"), after,
            at => RateBook.Price(Provider, RateBook.Empty, "H100", "eu-west-1", at), Now).ShouldBeEmpty();
    }
}
