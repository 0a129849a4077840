namespace ComputeLedger.Ledger.Commitments.ReleasingTranche;

public sealed record ReleaseTranche(string CommitmentId, string TrancheId, LocalDate ReleasedOn, string RequestedBy);

public static class ReleaseTrancheDecider
{
    /// <summary>Only an eligible tranche is released, and only once: a second release is a conflict, not a no-op,
    /// because paying twice is the one mistake treasury must never be allowed to retry into.</summary>
    public static IReadOnlyList<object> Decide(ReleaseTranche command, Commitment state, Instant now)
    {
        if (command.TrancheId == CommitmentTerms.UpfrontTrancheId)
        {
            throw RuleViolation.Conflict(state.Status == CommitmentStatus.Signed
                ? $"The upfront part of '{state.Id}' was released at signing on {state.SignedOn:yyyy-MM-dd}."
                : $"The upfront part of '{state.Id}' is released when the commitment is signed.");
        }

        var tranche = state.Terms.FindTranche(command.TrancheId)
            ?? throw RuleViolation.NotFound($"Commitment '{state.Id}' has no tranche '{command.TrancheId}'.");

        if (state.ReleasedTranches.TryGetValue(tranche.TrancheId, out var releasedOn))
        {
            throw RuleViolation.Conflict($"Tranche '{tranche.TrancheId}' was already released on {releasedOn:yyyy-MM-dd}.");
        }

        if (state.Status != CommitmentStatus.Signed)
        {
            throw RuleViolation.Conflict($"Commitment '{state.Id}' is {state.Status}; only a signed commitment releases tranches.");
        }

        if (!state.IsEligible(tranche))
        {
            var missing = tranche.Milestones.Where(m => !state.AchievedMilestones.ContainsKey(m));
            throw RuleViolation.Conflict(
                $"Tranche '{tranche.TrancheId}' is locked: milestone(s) {string.Join(", ", missing.Select(m => $"'{m}'"))} not achieved yet.");
        }

        return [new TrancheReleased(state.Id, tranche.TrancheId, tranche.Amount, command.ReleasedOn, now, command.RequestedBy)];
    }
}
