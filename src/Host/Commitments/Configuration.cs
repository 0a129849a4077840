using ComputeLedger.Ledger.Commitments;
using ComputeLedger.Projections.Commitments;
using JasperFx.Events.Projections;
using Marten;

namespace ComputeLedger.Host.Commitments;

public static class Configuration
{
    public static StoreOptions AddCommitments(this StoreOptions options)
    {
        // Stored names are part of the ledger's format: renaming a C# type must never orphan old events.
        options.Events.MapEventType<CommitmentOffered>("commitment_offered");
        options.Events.MapEventType<CommitmentSigned>("commitment_signed");
        options.Events.MapEventType<CommitmentDeclined>("commitment_declined");
        options.Events.MapEventType<MilestoneAchieved>("milestone_achieved");
        options.Events.MapEventType<TrancheReleased>("tranche_released");
        options.Events.MapEventType<MilestoneRevoked>("milestone_revoked");
        options.Events.MapEventType<MilestoneThresholdReverted>("milestone_threshold_reverted");
        options.Events.MapEventType<MilestoneMissed>("milestone_missed");
        options.Events.MapEventType<DrawdownThresholdCrossed>("drawdown_threshold_crossed");

        // Inline: one small document per deal, and every write answers with the state it produced.
        options.Projections.Add<TrancheEligibilityProjection>(ProjectionLifecycle.Inline);
        return options;
    }
}
