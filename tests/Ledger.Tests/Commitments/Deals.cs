using ComputeLedger.Ledger;
using ComputeLedger.Ledger.Commitments;
using NodaTime;

namespace ComputeLedger.Ledger.Tests.Commitments;

/// <summary>Test data: a deal shaped like Amazon-Anthropic, two tranches on three milestones.</summary>
internal static class Deals
{
    public static readonly Instant Now = Instant.FromUtc(2025, 7, 1, 12, 0);
    public static readonly LocalDate SignedOn = new(2024, 3, 27);

    public static Money Usd(decimal amount) => new(amount, "USD");

    public static CommitmentTerms Terms(string id = "amazon-anthropic") => new(
        id, "Amazon", "Anthropic", "AWS", "$5B upfront + $20B milestones",
        Usd(25_000_000_000m), Usd(5_000_000_000m),
        [
            new MilestoneDefinition("trillion-param-model", "1T+ parameter model", MilestoneKind.Attested),
            new MilestoneDefinition("aws-throughput-target", "Throughput on AWS", MilestoneKind.Attested),
            new MilestoneDefinition("inference-at-scale", "Inference at scale", MilestoneKind.Attested),
        ],
        [
            new TrancheDefinition("t1", Usd(8_000_000_000m), ["trillion-param-model"]),
            new TrancheDefinition("t2", Usd(12_000_000_000m), ["aws-throughput-target", "inference-at-scale"]),
        ],
        new ComputeCommitment("AWS", ["Trainium2"], Usd(25_000_000_000m), SignedOn, new LocalDate(2029, 3, 27)));

    public static CommitmentOffered Offered(CommitmentTerms? terms = null) => new(terms ?? Terms(), Now, "test");

    public static CommitmentSigned Signed() => new("amazon-anthropic", SignedOn, Usd(5_000_000_000m), Now, "test");

    public static MilestoneAchieved Achieved(string milestoneId, LocalDate? on = null) =>
        new("amazon-anthropic", milestoneId, on ?? new LocalDate(2025, 6, 30), "report", Now, "test");

    public static Commitment Given(params object[] events) =>
        Commitment.Fold(events) ?? throw new InvalidOperationException("no CommitmentOffered given");
}
