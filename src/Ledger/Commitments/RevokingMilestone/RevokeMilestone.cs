namespace ComputeLedger.Ledger.Commitments.RevokingMilestone;

/// <summary>Withdraw an attestation made in error.</summary>
public sealed record RevokeMilestone(string CommitmentId, string MilestoneId, string Reason, string RequestedBy);

public static class RevokeMilestoneDecider
{
    public static IReadOnlyList<object> Decide(RevokeMilestone command, Commitment state, Instant now)
    {
        var milestone = state.Terms.FindMilestone(command.MilestoneId)
            ?? throw RuleViolation.NotFound($"Commitment '{state.Id}' declares no milestone '{command.MilestoneId}'.");

        // A consumption milestone follows the usage, not an attestation: fixing it means fixing the usage. Revoking it
        // would only be undone by the next batch, which finds the threshold still reached.
        if (milestone.Kind == MilestoneKind.Consumption)
        {
            throw RuleViolation.Conflict(
                $"Milestone '{milestone.MilestoneId}' is a consumption milestone: the ledger detects it from usage, so it cannot be revoked. " +
                "Void or correct the usage records instead; if consumption falls back under the threshold, the ledger records MilestoneThresholdReverted.");
        }

        if (state.AchievedMilestones.TryGetValue(milestone.MilestoneId, out var achievedOn))
        {
            return [new MilestoneRevoked(state.Id, milestone.MilestoneId, achievedOn, command.Reason, now, command.RequestedBy)];
        }

        // A retried revocation is already satisfied; revoking what was never attested is a mistake worth telling.
        return state.RevokedMilestones.Contains(milestone.MilestoneId)
            ? []
            : throw RuleViolation.Conflict($"Milestone '{milestone.MilestoneId}' is not achieved; there is no attestation to revoke.");
    }
}
