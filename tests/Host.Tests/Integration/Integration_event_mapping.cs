using ComputeLedger.Contracts;
using ComputeLedger.Host.Integration;
using ComputeLedger.Ledger.Tests.Commitments;
using Shouldly;
using L = ComputeLedger.Ledger.Commitments;

namespace ComputeLedger.Host.Tests.Integration;

/// <summary>The pure mapping from appended ledger events to integration events: no database, no bus.</summary>
public class Integration_event_mapping
{
    [Fact]
    public void Recording_a_signed_deal_announces_the_signature_and_no_tranche()
    {
        var messages = IntegrationEvents.For(null, 0, [Deals.Offered(), Deals.Signed()]);

        var signed = messages.ShouldHaveSingleItem().ShouldBeOfType<CommitmentSigned>();
        signed.UpfrontReleased.ShouldBe(new MoneyAmount(5_000_000_000m, "USD"));
        signed.Id.ShouldBe(IntegrationEvents.StableId("amazon-anthropic", 2, "signed"));
    }

    [Fact]
    public void A_tranche_turns_eligible_on_the_achievement_of_its_last_milestone_dated_by_the_latest_one()
    {
        var state = Deals.Given(Deals.Offered(), Deals.Signed());

        var first = IntegrationEvents.For(state, 2, [Deals.Achieved("aws-throughput-target", new(2025, 5, 1))]);
        first.ShouldHaveSingleItem().ShouldBeOfType<MilestoneAchieved>();

        var second = IntegrationEvents.For(state.Apply(Deals.Achieved("aws-throughput-target", new(2025, 5, 1))), 3,
            [Deals.Achieved("inference-at-scale", new(2025, 4, 1))]);
        var eligible = second.OfType<TrancheBecameEligible>().ShouldHaveSingleItem();
        eligible.TrancheId.ShouldBe("t2");
        eligible.EligibleOn.ShouldBe(new DateOnly(2025, 5, 1));
        eligible.Id.ShouldBe(IntegrationEvents.StableId("amazon-anthropic", 4, "eligible:t2"));
    }

    [Fact]
    public void A_released_tranche_does_not_turn_eligible_again_when_its_milestone_is_re_attested()
    {
        var achieved = Deals.Achieved("trillion-param-model");
        var state = Deals.Given(Deals.Offered(), Deals.Signed(), achieved,
            new L.TrancheReleased("amazon-anthropic", "t1", Deals.Usd(8_000_000_000m), new(2025, 7, 1), Deals.Now, "test"),
            new L.MilestoneRevoked("amazon-anthropic", "trillion-param-model", achieved.AchievedOn, "error", Deals.Now, "test"));

        IntegrationEvents.For(state, 5, [Deals.Achieved("trillion-param-model")]).OfType<TrancheBecameEligible>().ShouldBeEmpty();
    }

    [Fact]
    public void Ids_are_the_same_for_the_same_fact_and_differ_between_facts()
    {
        IntegrationEvents.StableId("a", 3, "eligible:t1").ShouldBe(IntegrationEvents.StableId("a", 3, "eligible:t1"));
        IntegrationEvents.StableId("a", 3, "eligible:t1").ShouldNotBe(IntegrationEvents.StableId("a", 4, "eligible:t1"));
        IntegrationEvents.StableId("a", 3, "eligible:t1").ShouldNotBe(IntegrationEvents.StableId("b", 3, "eligible:t1"));
        IntegrationEvents.StableId("a", 3, "eligible:t1").ShouldNotBe(IntegrationEvents.StableId("a", 3, "eligible:t2"));
    }

    [Fact]
    public void Events_that_are_not_announced_produce_nothing()
    {
        var state = Deals.Given(Deals.Offered(), Deals.Signed(), Deals.Achieved("trillion-param-model"));
        IntegrationEvents.For(state, 3, [new L.MilestoneRevoked("amazon-anthropic", "trillion-param-model", new(2025, 6, 30), "error", Deals.Now, "test")])
            .ShouldBeEmpty();
    }
}
