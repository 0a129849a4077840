using ComputeLedger.Ledger.Commitments;
using ComputeLedger.Ledger.Commitments.Recording;
using Shouldly;
using static ComputeLedger.Ledger.Tests.Commitments.Deals;

namespace ComputeLedger.Ledger.Tests.Commitments;

public class Recording_a_commitment
{
    [Fact]
    public void An_offer_records_only_the_offer()
    {
        var terms = Terms();

        var events = RecordCommitmentDecider.Decide(new RecordCommitment(terms, null, "test"), null, Now);

        events.ShouldBe([new CommitmentOffered(terms, Now, "test")], ignoreOrder: false);
    }

    [Fact]
    public void A_signed_deal_is_offered_and_signed_at_once_releasing_its_upfront()
    {
        var events = RecordCommitmentDecider.Decide(new RecordCommitment(Terms(), SignedOn, "test"), null, Now);

        events.Count.ShouldBe(2);
        events[0].ShouldBeOfType<CommitmentOffered>();
        events[1].ShouldBe(new CommitmentSigned("amazon-anthropic", SignedOn, Usd(5_000_000_000m), Now, "test"));
    }

    [Fact]
    public void Upfront_plus_tranches_must_equal_the_headline_and_the_refusal_gives_the_numbers()
    {
        var terms = Terms() with { Headline = Usd(26_000_000_000m) };

        var refusal = Should.Throw<RuleViolation>(() => RecordCommitmentDecider.Decide(new RecordCommitment(terms, null, "test"), null, Now));

        refusal.Kind.ShouldBe(ViolationKind.Invalid);
        refusal.Message.ShouldContain("5000000000 + 20000000000 = 25000000000 USD");
        refusal.Message.ShouldContain("headline is 26000000000 USD");
    }

    [Fact]
    public void A_tranche_needing_an_undeclared_milestone_is_refused()
    {
        var terms = Terms() with { Tranches = [new TrancheDefinition("t1", Usd(20_000_000_000m), ["no-such-milestone"])] };

        var refusal = Should.Throw<RuleViolation>(() => RecordCommitmentDecider.Decide(new RecordCommitment(terms, null, "test"), null, Now));

        refusal.Field.ShouldBe("tranches[0].milestones");
        refusal.Message.ShouldContain("no-such-milestone");
    }

    [Fact]
    public void Mixed_currencies_are_refused()
    {
        var terms = Terms() with { Upfront = new Money(5_000_000_000m, "EUR") };

        Should.Throw<RuleViolation>(() => RecordCommitmentDecider.Decide(new RecordCommitment(terms, null, "test"), null, Now))
            .Field.ShouldBe("upfront.currency");
    }

    [Fact]
    public void A_tranche_may_not_take_the_reserved_upfront_id()
    {
        var terms = Terms() with
        {
            Tranches = [new TrancheDefinition("upfront", Usd(20_000_000_000m), ["trillion-param-model"])],
        };

        Should.Throw<RuleViolation>(() => RecordCommitmentDecider.Decide(new RecordCommitment(terms, null, "test"), null, Now))
            .Message.ShouldContain("reserved");
    }

    [Fact]
    public void An_id_already_taken_is_a_conflict()
    {
        var refusal = Should.Throw<RuleViolation>(() =>
            RecordCommitmentDecider.Decide(new RecordCommitment(Terms(), null, "test"), Given(Offered()), Now));

        refusal.Kind.ShouldBe(ViolationKind.Conflict);
    }
}
