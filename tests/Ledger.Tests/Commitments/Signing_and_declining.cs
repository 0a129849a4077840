using ComputeLedger.Ledger.Commitments;
using ComputeLedger.Ledger.Commitments.Declining;
using ComputeLedger.Ledger.Commitments.Signing;
using NodaTime;
using Shouldly;
using static ComputeLedger.Ledger.Tests.Commitments.Deals;

namespace ComputeLedger.Ledger.Tests.Commitments;

public class Signing_and_declining
{
    [Fact]
    public void Signing_an_offer_releases_the_upfront_on_the_signing_date()
    {
        var events = SignCommitmentDecider.Decide(new SignCommitment("amazon-anthropic", SignedOn, "test"), Given(Offered()), Now);

        events.ShouldBe([Signed()]);
    }

    [Fact]
    public void Signing_again_on_the_same_date_changes_nothing()
    {
        SignCommitmentDecider.Decide(new SignCommitment("amazon-anthropic", SignedOn, "test"), Given(Offered(), Signed()), Now)
            .ShouldBeEmpty();
    }

    [Fact]
    public void Signing_again_on_another_date_is_a_conflict()
    {
        Should.Throw<RuleViolation>(() => SignCommitmentDecider.Decide(
                new SignCommitment("amazon-anthropic", new LocalDate(2025, 1, 1), "test"), Given(Offered(), Signed()), Now))
            .Kind.ShouldBe(ViolationKind.Conflict);
    }

    [Fact]
    public void Signing_a_declined_commitment_is_a_conflict()
    {
        var declined = new CommitmentDeclined("amazon-anthropic", null, "no", Now, "test");

        var refusal = Should.Throw<RuleViolation>(() => SignCommitmentDecider.Decide(
            new SignCommitment("amazon-anthropic", SignedOn, "test"), Given(Offered(), declined), Now));

        refusal.Kind.ShouldBe(ViolationKind.Conflict);
        refusal.Message.ShouldContain("declined");
    }

    [Fact]
    public void Declining_an_offer_records_the_decline()
    {
        DeclineCommitmentDecider.Decide(new DeclineCommitment("amazon-anthropic", null, "went elsewhere", "test"), Given(Offered()), Now)
            .ShouldBe([new CommitmentDeclined("amazon-anthropic", null, "went elsewhere", Now, "test")]);
    }

    [Fact]
    public void Declining_a_signed_deal_is_a_conflict()
    {
        Should.Throw<RuleViolation>(() => DeclineCommitmentDecider.Decide(
                new DeclineCommitment("amazon-anthropic", null, null, "test"), Given(Offered(), Signed()), Now))
            .Kind.ShouldBe(ViolationKind.Conflict);
    }
}
