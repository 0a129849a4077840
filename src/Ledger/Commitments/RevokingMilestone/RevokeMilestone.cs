namespace ComputeLedger.Ledger.Commitments.RevokingMilestone;

/// <summary>Withdraw an attestation made in error.</summary>
public sealed record RevokeMilestone(string CommitmentId, string MilestoneId, string Reason, string RequestedBy);

public static class RevokeMilestoneDecider
{
    public static IReadOnlyList<object> Decide(RevokeMilestone command, Commitment state, Instant now)
    {
        var milestone = state.Terms.FindMilestone(command.MilestoneId)
            ?? throw RuleViolation.NotFound($"Commitment '{state.Id}' declares no milestone '{command.MilestoneId}'.");

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
