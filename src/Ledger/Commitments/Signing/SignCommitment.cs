namespace ComputeLedger.Ledger.Commitments.Signing;

public sealed record SignCommitment(string CommitmentId, LocalDate SignedOn, string RequestedBy);

public static class SignCommitmentDecider
{
    public static IReadOnlyList<object> Decide(SignCommitment command, Commitment state, Instant now) => state.Status switch
    {
        // A retried sign with the same date is already satisfied: no new event, no error.
        CommitmentStatus.Signed when state.SignedOn == command.SignedOn => [],
        CommitmentStatus.Signed => throw RuleViolation.Conflict(
            $"Commitment '{state.Id}' was already signed on {state.SignedOn:yyyy-MM-dd}."),
        CommitmentStatus.Declined => throw RuleViolation.Conflict(
            $"Commitment '{state.Id}' was declined; a declined offer cannot be signed."),
        _ => [new CommitmentSigned(state.Id, command.SignedOn, state.Terms.Upfront, now, command.RequestedBy)],
    };
}
