using ComputeLedger.Ledger.Commitments;
using ComputeLedger.Ledger.Commitments.AchievingMilestone;
using ComputeLedger.Ledger.Commitments.ReleasingTranche;
using NodaTime;
using ComputeLedger.Ledger.Commitments.RevokingMilestone;
using Shouldly;
using static ComputeLedger.Ledger.Tests.Commitments.Deals;

namespace ComputeLedger.Ledger.Tests.Commitments;

public class Milestones_and_tranches
{
    private static readonly LocalDate June30 = new(2025, 6, 30);

    [Fact]
    public void Attesting_a_milestone_records_its_business_date_and_evidence()
    {
        AchieveMilestoneDecider.Decide(new AchieveMilestone("amazon-anthropic", "trillion-param-model", June30, "report", "test"),
                Given(Offered(), Signed()), Now)
            .ShouldBe([new MilestoneAchieved("amazon-anthropic", "trillion-param-model", June30, "report", Now, "test")]);
    }

    [Fact]
    public void Attesting_the_same_milestone_again_is_a_no_op_and_with_another_date_a_conflict()
    {
        var state = Given(Offered(), Signed(), Achieved("trillion-param-model", June30));

        AchieveMilestoneDecider.Decide(new AchieveMilestone("amazon-anthropic", "trillion-param-model", June30, "again", "test"), state, Now)
            .ShouldBeEmpty();
        Should.Throw<RuleViolation>(() => AchieveMilestoneDecider.Decide(
                new AchieveMilestone("amazon-anthropic", "trillion-param-model", June30.PlusDays(1), "again", "test"), state, Now))
            .Kind.ShouldBe(ViolationKind.Conflict);
    }

    [Fact]
    public void An_undeclared_milestone_is_not_found()
    {
        Should.Throw<RuleViolation>(() => AchieveMilestoneDecider.Decide(
                new AchieveMilestone("amazon-anthropic", "agi", June30, "x", "test"), Given(Offered(), Signed()), Now))
            .Kind.ShouldBe(ViolationKind.NotFound);
    }

    [Fact]
    public void Milestones_do_not_count_before_signing()
    {
        Should.Throw<RuleViolation>(() => AchieveMilestoneDecider.Decide(
                new AchieveMilestone("amazon-anthropic", "trillion-param-model", June30, "x", "test"), Given(Offered()), Now))
            .Kind.ShouldBe(ViolationKind.Conflict);
    }

    [Fact]
    public void Releasing_a_locked_tranche_is_refused_naming_the_missing_milestones()
    {
        var state = Given(Offered(), Signed(), Achieved("aws-throughput-target"));

        var refusal = Should.Throw<RuleViolation>(() => ReleaseTrancheDecider.Decide(
            new ReleaseTranche("amazon-anthropic", "t2", June30, "test"), state, Now));

        refusal.Kind.ShouldBe(ViolationKind.Conflict);
        refusal.Message.ShouldContain("'inference-at-scale'");
        refusal.Message.ShouldNotContain("'aws-throughput-target'");
    }

    [Fact]
    public void A_tranche_is_eligible_only_when_all_its_milestones_are_achieved()
    {
        var tranche = Terms().FindTranche("t2")!;

        Given(Offered(), Signed(), Achieved("aws-throughput-target")).IsEligible(tranche).ShouldBeFalse();
        Given(Offered(), Signed(), Achieved("aws-throughput-target"), Achieved("inference-at-scale")).IsEligible(tranche).ShouldBeTrue();
    }

    [Fact]
    public void Releasing_an_eligible_tranche_pays_its_amount()
    {
        var state = Given(Offered(), Signed(), Achieved("trillion-param-model"));

        ReleaseTrancheDecider.Decide(new ReleaseTranche("amazon-anthropic", "t1", June30, "test"), state, Now)
            .ShouldBe([new TrancheReleased("amazon-anthropic", "t1", Usd(8_000_000_000m), June30, Now, "test")]);
    }

    [Fact]
    public void A_second_release_is_a_conflict()
    {
        var state = Given(Offered(), Signed(), Achieved("trillion-param-model"),
            new TrancheReleased("amazon-anthropic", "t1", Usd(8_000_000_000m), June30, Now, "test"));

        var refusal = Should.Throw<RuleViolation>(() => ReleaseTrancheDecider.Decide(
            new ReleaseTranche("amazon-anthropic", "t1", June30, "test"), state, Now));

        refusal.Kind.ShouldBe(ViolationKind.Conflict);
        refusal.Message.ShouldContain("already released");
    }

    [Fact]
    public void An_unknown_tranche_is_not_found_and_the_upfront_cannot_be_released_by_hand()
    {
        var state = Given(Offered(), Signed());

        Should.Throw<RuleViolation>(() => ReleaseTrancheDecider.Decide(new ReleaseTranche("amazon-anthropic", "t9", June30, "test"), state, Now))
            .Kind.ShouldBe(ViolationKind.NotFound);
        Should.Throw<RuleViolation>(() => ReleaseTrancheDecider.Decide(new ReleaseTranche("amazon-anthropic", "upfront", June30, "test"), state, Now))
            .Kind.ShouldBe(ViolationKind.Conflict);
    }

    [Fact]
    public void A_consumption_milestone_cannot_be_revoked_only_its_usage_can_be_fixed()
    {
        var terms = Terms() with
        {
            Milestones = [new MilestoneDefinition("scale", "10 chip-hours", MilestoneKind.Consumption, new ConsumptionThreshold(null, 10m))],
            Tranches = [new TrancheDefinition("t1", Usd(20_000_000_000m), ["scale"])],
        };
        var state = Given(Offered(terms), Signed(), Achieved("scale"));

        var refusal = Should.Throw<RuleViolation>(() => RevokeMilestoneDecider.Decide(new RevokeMilestone(state.Id, "scale", "wrong", "admin"), state, Now));

        refusal.Kind.ShouldBe(ViolationKind.Conflict);
        refusal.Message.ShouldContain("Void or correct the usage");
    }

    [Fact]
    public void Drawdown_marks_are_remembered_once_recorded_and_change_nothing_else()
    {
        var before = Given(Offered(), Signed());
        var after = before.Apply(new DrawdownThresholdCrossed(before.Id, 50, Usd(25_000_000_000m), Usd(12_500_000_000m), new LocalDate(2025, 7, 1), "u-1", Now));

        after.DrawdownThresholdsCrossed.ShouldBe([50]);
        (after with { DrawdownThresholdsCrossed = before.DrawdownThresholdsCrossed }).ShouldBe(before);
    }
}
