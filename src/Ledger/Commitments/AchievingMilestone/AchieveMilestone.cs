namespace ComputeLedger.Ledger.Commitments.AchievingMilestone;

/// <summary>An admin attests that a milestone happened on a business date.</summary>
public sealed record AchieveMilestone(string CommitmentId, string MilestoneId, LocalDate AchievedOn, string Evidence, string RequestedBy);

public static class AchieveMilestoneDecider
{
    public static IReadOnlyList<object> Decide(AchieveMilestone command, Commitment state, Instant now)
    {
        var milestone = state.Terms.FindMilestone(command.MilestoneId)
            ?? throw RuleViolation.NotFound($"Commitment '{state.Id}' declares no milestone '{command.MilestoneId}'.");

        if (milestone.Kind != MilestoneKind.Attested)
        {
            throw RuleViolation.Conflict(
                $"Milestone '{milestone.MilestoneId}' is a {milestone.Kind.ToString().ToLowerInvariant()} milestone; the ledger detects it, it cannot be attested.");
        }

        if (state.Status != CommitmentStatus.Signed)
        {
            throw RuleViolation.Conflict(
                $"Commitment '{state.Id}' is {state.Status}; milestones count only on a signed commitment.");
        }

        if (state.AchievedMilestones.TryGetValue(milestone.MilestoneId, out var achievedOn))
        {
            return achievedOn == command.AchievedOn
                ? []
                : throw RuleViolation.Conflict(
                    $"Milestone '{milestone.MilestoneId}' was already achieved on {achievedOn:yyyy-MM-dd}.");
        }

        return [new MilestoneAchieved(state.Id, milestone.MilestoneId, command.AchievedOn, command.Evidence, now, command.RequestedBy)];
    }
}
