namespace ComputeLedger.Ledger.Commitments.Declining;

public sealed record DeclineCommitment(string CommitmentId, LocalDate? DeclinedOn, string? Reason, string RequestedBy);

public static class DeclineCommitmentDecider
{
    public static IReadOnlyList<object> Decide(DeclineCommitment command, Commitment state, Instant now) => state.Status switch
    {
        CommitmentStatus.Declined => [],
        CommitmentStatus.Signed => throw RuleViolation.Conflict(
            $"Commitment '{state.Id}' was signed on {state.SignedOn:yyyy-MM-dd}; a signed deal cannot be declined."),
        _ => [new CommitmentDeclined(state.Id, command.DeclinedOn, command.Reason, now, command.RequestedBy)],
    };
}
