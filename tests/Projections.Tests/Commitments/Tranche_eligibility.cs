using ComputeLedger.Ledger;
using ComputeLedger.Ledger.Commitments;
using ComputeLedger.Projections.Commitments;
using NodaTime;
using Shouldly;

namespace ComputeLedger.Projections.Tests.Commitments;

public class Tranche_eligibility
{
    private static readonly Instant Now = Instant.FromUtc(2025, 7, 1, 12, 0);
    private static readonly LocalDate SignedOn = new(2024, 3, 27);

    private static Money Usd(decimal amount) => new(amount, "USD");

    private static readonly CommitmentTerms Terms = new(
        "amazon-anthropic", "Amazon", "Anthropic", "AWS", "$5B upfront + $20B milestones",
        Usd(25_000_000_000m), Usd(5_000_000_000m),
        [
            new MilestoneDefinition("trillion-param-model", "1T+ parameter model", MilestoneKind.Attested),
            new MilestoneDefinition("aws-throughput-target", "Throughput on AWS", MilestoneKind.Attested),
        ],
        [
            new TrancheDefinition("t1", Usd(8_000_000_000m), ["trillion-param-model"]),
            new TrancheDefinition("t2", Usd(12_000_000_000m), ["trillion-param-model", "aws-throughput-target"]),
        ],
        null);

    private static TrancheEligibility Fold(params object[] events) =>
        events.Aggregate((TrancheEligibility?)null, TrancheEligibility.Next) ?? throw new InvalidOperationException("nothing folded");

    private static readonly CommitmentOffered Offered = new(Terms, Now, "test");
    private static readonly CommitmentSigned Signed = new("amazon-anthropic", SignedOn, Usd(5_000_000_000m), Now, "test");

    private static MilestoneAchieved Achieved(string id) => new("amazon-anthropic", id, new LocalDate(2025, 6, 30), "report", Now, "test");

    [Fact]
    public void An_offer_has_everything_locked_including_the_upfront()
    {
        var view = Fold(Offered);

        view.Status.ShouldBe(CommitmentStatus.Offered);
        view.Locked.ShouldBe(Usd(25_000_000_000m));
        view.Released.ShouldBe(Usd(0m));
        view.Tranches.Select(t => t.TrancheId).ShouldBe(["upfront", "t1", "t2"]);
        view.Tranches.ShouldAllBe(t => t.Status == TrancheStatus.Locked);
    }

    [Fact]
    public void Signing_releases_the_upfront_and_leaves_the_milestone_tranches_locked()
    {
        var view = Fold(Offered, Signed);

        view.Headline.ShouldBe(Usd(25_000_000_000m));
        view.Released.ShouldBe(Usd(5_000_000_000m));
        view.Eligible.ShouldBe(Usd(0m));
        view.Locked.ShouldBe(Usd(20_000_000_000m));
        view.Tranches[0].Status.ShouldBe(TrancheStatus.Released);
        view.Tranches[0].ReleasedOn.ShouldBe(SignedOn);
    }

    [Fact]
    public void A_tranche_turns_eligible_only_when_all_its_milestones_are_achieved()
    {
        var view = Fold(Offered, Signed, Achieved("trillion-param-model"));

        view.Tranches.Single(t => t.TrancheId == "t1").Status.ShouldBe(TrancheStatus.Eligible);
        view.Tranches.Single(t => t.TrancheId == "t2").Status.ShouldBe(TrancheStatus.Locked);
        view.Tranches.Single(t => t.TrancheId == "t2").Milestones.Single(m => m.MilestoneId == "trillion-param-model")
            .AchievedOn.ShouldBe(new LocalDate(2025, 6, 30));
        view.Eligible.ShouldBe(Usd(8_000_000_000m));
        view.Locked.ShouldBe(Usd(12_000_000_000m));
    }

    [Fact]
    public void Releasing_moves_the_amount_from_eligible_to_released()
    {
        var view = Fold(Offered, Signed, Achieved("trillion-param-model"),
            new TrancheReleased("amazon-anthropic", "t1", Usd(8_000_000_000m), new LocalDate(2025, 7, 15), Now, "test"));

        view.Released.ShouldBe(Usd(13_000_000_000m));
        view.Eligible.ShouldBe(Usd(0m));
        view.Tranches.Single(t => t.TrancheId == "t1").Status.ShouldBe(TrancheStatus.Released);
    }

    [Fact]
    public void A_declined_offer_pays_nothing()
    {
        var view = Fold(Offered, new CommitmentDeclined("amazon-anthropic", null, "no", Now, "test"));

        view.Status.ShouldBe(CommitmentStatus.Declined);
        view.Released.ShouldBe(Usd(0m));
        view.Eligible.ShouldBe(Usd(0m));
    }

    [Fact]
    public void Released_plus_eligible_plus_locked_is_always_the_headline()
    {
        object[] history = [Offered, Signed, Achieved("trillion-param-model"), Achieved("aws-throughput-target"),
            new TrancheReleased("amazon-anthropic", "t2", Usd(12_000_000_000m), new LocalDate(2025, 8, 1), Now, "test")];

        for (var n = 1; n <= history.Length; n++)
        {
            var view = Fold(history[..n]);
            view.Released.Plus(view.Eligible).Plus(view.Locked).ShouldBe(view.Headline);
        }
    }
}
