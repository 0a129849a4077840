using ComputeLedger.Ledger.Commitments;
using ComputeLedger.Ledger.Commitments.TrackingConsumption;
using NodaTime;
using Shouldly;
using static ComputeLedger.Ledger.Tests.Commitments.Deals;

namespace ComputeLedger.Ledger.Tests.Commitments;

/// <summary>Given a commitment's events, when the Host has measured its stored usage, then the ledger's own decisions.</summary>
public class Tracking_consumption
{
    private static readonly LocalDate Deadline = new(2025, 12, 31);
    private static readonly Instant CrossedAt = Instant.FromUtc(2025, 5, 4, 22, 30);

    private static readonly MilestoneDefinition Spend = new("spend-1m", "USD 1M on Trainium2", MilestoneKind.Consumption,
        new ConsumptionThreshold(Usd(1_000_000m), null), ["Trainium2"], Deadline);

    private static readonly MilestoneDefinition Hours = new("hours-10k", "10,000 chip-hours", MilestoneKind.Consumption,
        new ConsumptionThreshold(null, 10_000m));

    private static CommitmentTerms ConsumptionTerms() => Terms() with
    {
        Milestones = [.. Terms().Milestones, Spend, Hours],
    };

    private static CommitmentOffered OfferedWithThresholds() => Offered(ConsumptionTerms());

    private static readonly Crossing ByU7 = new("u-7", CrossedAt);

    [Fact]
    public void Usage_reaching_a_pending_threshold_achieves_it_on_the_day_the_crossing_record_started()
    {
        ConsumptionMilestoneDecider.Reached(Given(OfferedWithThresholds(), Signed()), new Dictionary<string, Crossing> { ["spend-1m"] = ByU7 }, Now)
            .ShouldBe([new MilestoneAchieved("amazon-anthropic", "spend-1m", new LocalDate(2025, 5, 4),
                $"cumulative consumption reached {Usd(1_000_000m)} with usage 'u-7'", Now, "ledger")]);
    }

    [Fact]
    public void A_chip_hour_threshold_names_its_hours_in_the_evidence()
    {
        var achieved = (MilestoneAchieved)ConsumptionMilestoneDecider.Reached(Given(OfferedWithThresholds(), Signed()),
            new Dictionary<string, Crossing> { ["hours-10k"] = ByU7 }, Now).ShouldHaveSingleItem();

        achieved.MilestoneId.ShouldBe("hours-10k");
        achieved.Evidence.ShouldBe($"cumulative consumption reached {10_000m} chip-hours with usage 'u-7'");
    }

    [Fact]
    public void Without_a_crossing_a_pending_milestone_stays_pending()
    {
        ConsumptionMilestoneDecider.Reached(Given(OfferedWithThresholds(), Signed()), new Dictionary<string, Crossing>(), Now).ShouldBeEmpty();
    }

    [Fact]
    public void An_achieved_or_missed_milestone_is_not_decided_again()
    {
        var crossings = new Dictionary<string, Crossing> { ["spend-1m"] = ByU7, ["hours-10k"] = ByU7 };
        var state = Given(OfferedWithThresholds(), Signed(), Achieved("spend-1m"),
            new MilestoneMissed("amazon-anthropic", "hours-10k", Deadline, 5m, Now));

        ConsumptionMilestoneDecider.Pending(state).ShouldBeEmpty();
        ConsumptionMilestoneDecider.Reached(state, crossings, Now).ShouldBeEmpty();
    }

    [Fact]
    public void Consumption_counts_only_on_a_signed_commitment_and_only_for_consumption_milestones()
    {
        var crossings = new Dictionary<string, Crossing> { ["spend-1m"] = ByU7, ["trillion-param-model"] = ByU7 };

        ConsumptionMilestoneDecider.Reached(Given(OfferedWithThresholds()), crossings, Now).ShouldBeEmpty();
        ConsumptionMilestoneDecider.Pending(Given(OfferedWithThresholds(), Signed())).Select(m => m.MilestoneId).ShouldBe(["spend-1m", "hours-10k"]);
    }

    [Fact]
    public void A_milestone_is_measured_on_its_chips_in_its_unit_and_up_to_the_end_of_its_deadline_day()
    {
        ConsumptionMilestoneDecider.Measure(Spend)
            .ShouldBe(new ConsumptionMeasure(Spend.Chips, ByHours: false, 1_000_000m, Instant.FromUtc(2026, 1, 1, 0, 0)));
        ConsumptionMilestoneDecider.Measure(Hours).ShouldBe(new ConsumptionMeasure(null, ByHours: true, 10_000m, null));
    }

    [Fact]
    public void A_void_taking_consumption_under_an_achieved_threshold_records_the_dip_once()
    {
        var achievedOn = new LocalDate(2025, 5, 4);
        var state = Given(OfferedWithThresholds(), Signed(), Achieved("spend-1m", achievedOn));
        var consumed = new Dictionary<string, decimal> { ["spend-1m"] = 999_999.99m };

        var reverted = ConsumptionMilestoneDecider.Reverted(state, consumed, "u-7", Now);

        reverted.ShouldBe([new MilestoneThresholdReverted("amazon-anthropic", "spend-1m", achievedOn, 999_999.99m, "u-7", Now)]);
        ConsumptionMilestoneDecider.Reverted(state.Apply(reverted[0]), consumed, "u-8", Now).ShouldBeEmpty();
        state.Apply(reverted[0]).AchievedMilestones.ShouldContainKey("spend-1m");
    }

    [Fact]
    public void Consumption_still_at_the_threshold_reverts_nothing()
    {
        ConsumptionMilestoneDecider.Reverted(Given(OfferedWithThresholds(), Signed(), Achieved("spend-1m")),
            new Dictionary<string, decimal> { ["spend-1m"] = 1_000_000m }, "u-7", Now).ShouldBeEmpty();
    }

    [Fact]
    public void Nothing_is_decided_at_a_deadline_before_its_day_is_over()
    {
        var lastHourOfDeadline = Instant.FromUtc(2025, 12, 31, 23, 0);

        ConsumptionMilestoneDecider.PastDeadline(Given(OfferedWithThresholds(), Signed()), lastHourOfDeadline).ShouldBeEmpty();
        ConsumptionMilestoneDecider.AtDeadline(Given(OfferedWithThresholds(), Signed()), new Dictionary<string, Crossing>(),
            new Dictionary<string, decimal>(), lastHourOfDeadline).ShouldBeEmpty();
    }

    [Fact]
    public void After_its_deadline_day_a_milestone_crossed_by_then_is_achieved_on_the_crossing_date()
    {
        var afterDeadline = Instant.FromUtc(2026, 1, 1, 0, 0);

        ConsumptionMilestoneDecider.AtDeadline(Given(OfferedWithThresholds(), Signed()), new Dictionary<string, Crossing> { ["spend-1m"] = ByU7 },
                new Dictionary<string, decimal>(), afterDeadline)
            .ShouldBe([new MilestoneAchieved("amazon-anthropic", "spend-1m", new LocalDate(2025, 5, 4),
                "cumulative consumption reached its threshold by the deadline with usage 'u-7'", afterDeadline, "ledger")]);
    }

    [Fact]
    public void After_its_deadline_day_a_milestone_not_crossed_is_missed_at_its_running_total()
    {
        var afterDeadline = Instant.FromUtc(2026, 1, 1, 0, 0);
        var state = Given(OfferedWithThresholds(), Signed());

        var missed = ConsumptionMilestoneDecider.AtDeadline(state, new Dictionary<string, Crossing>(),
            new Dictionary<string, decimal> { ["spend-1m"] = 400_000m }, afterDeadline);

        missed.ShouldBe([new MilestoneMissed("amazon-anthropic", "spend-1m", Deadline, 400_000m, afterDeadline)]);
        ConsumptionMilestoneDecider.AtDeadline(state.Apply(missed[0]), new Dictionary<string, Crossing> { ["spend-1m"] = ByU7 },
            new Dictionary<string, decimal>(), afterDeadline).ShouldBeEmpty();
        Should.Throw<ArgumentException>(() => ConsumptionMilestoneDecider.AtDeadline(state, new Dictionary<string, Crossing>(),
            new Dictionary<string, decimal>(), afterDeadline));
    }

    [Fact]
    public void Drawdown_marks_are_due_once_consumption_reaches_them_and_until_recorded()
    {
        var committed = Usd(25_000_000_000m);
        var signed = Given(Offered(), Signed());

        DrawdownMarkDecider.Due(signed, committed, 12_499_999_999.99m).ShouldBeEmpty();
        DrawdownMarkDecider.Due(signed, committed, 20_000_000_000m).ShouldBe([50, 75]);
        DrawdownMarkDecider.Due(signed.Apply(Crossed(50)), committed, 25_000_000_000m).ShouldBe([75, 90, 100]);
        DrawdownMarkDecider.Due(Given(Offered()), committed, 25_000_000_000m).ShouldBeEmpty();
        DrawdownMarkDecider.Due(signed, Usd(0m), 1m).ShouldBeEmpty();
    }

    [Fact]
    public void A_drawdown_mark_is_measured_on_every_chip_in_money_however_late()
    {
        DrawdownMarkDecider.Measure(Usd(25_000_000_000m), 75).ShouldBe(new ConsumptionMeasure(null, ByHours: false, 18_750_000_000m, null));
    }

    [Fact]
    public void Each_due_mark_with_a_crossing_is_recorded_with_the_total_it_was_decided_on()
    {
        var committed = Usd(25_000_000_000m);
        var crossings = new Dictionary<int, Crossing> { [50] = ByU7, [75] = new("u-9", Instant.FromUtc(2025, 6, 1, 0, 0)) };

        DrawdownMarkDecider.Decide(Given(Offered(), Signed()), committed, 20_000_000_000m, crossings, Now)
            .ShouldBe([
                new DrawdownThresholdCrossed("amazon-anthropic", 50, committed, Usd(20_000_000_000m), new LocalDate(2025, 5, 4), "u-7", Now),
                new DrawdownThresholdCrossed("amazon-anthropic", 75, committed, Usd(20_000_000_000m), new LocalDate(2025, 6, 1), "u-9", Now),
            ]);
        DrawdownMarkDecider.Decide(Given(Offered(), Signed(), Crossed(50), Crossed(75)), committed, 20_000_000_000m, crossings, Now).ShouldBeEmpty();
    }

    private static DrawdownThresholdCrossed Crossed(int percent) =>
        new("amazon-anthropic", percent, Usd(25_000_000_000m), Usd(25_000_000_000m), new LocalDate(2025, 5, 4), "u-1", Now);
}
