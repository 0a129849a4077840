using System.Collections.Immutable;

namespace ComputeLedger.Ledger.Commitments;

/// <summary>
/// What the deciders need to know about one deal: its terms, where it is in its lifecycle, which milestones
/// are achieved (and when) and which tranches are released. Built only by folding the stream's events.
/// </summary>
public sealed record Commitment(
    CommitmentTerms Terms,
    CommitmentStatus Status,
    LocalDate? SignedOn,
    ImmutableDictionary<string, LocalDate> AchievedMilestones,
    ImmutableDictionary<string, LocalDate> ReleasedTranches)
{
    /// <summary>Milestones whose attestation was withdrawn at least once; a repeated revocation is then a no-op.</summary>
    public ImmutableHashSet<string> RevokedMilestones { get; init; } = ImmutableHashSet<string>.Empty;

    /// <summary>Consumption milestones whose deadline passed without the threshold being reached.</summary>
    public ImmutableHashSet<string> MissedMilestones { get; init; } = ImmutableHashSet<string>.Empty;

    /// <summary>Achieved consumption milestones whose consumption has since fallen back under the threshold.</summary>
    public ImmutableHashSet<string> ThresholdReverted { get; init; } = ImmutableHashSet<string>.Empty;

    /// <summary>Drawdown marks (percent of committed compute) already recorded as crossed.</summary>
    public ImmutableHashSet<int> DrawdownThresholdsCrossed { get; init; } = ImmutableHashSet<int>.Empty;

    /// <summary>The drawdown marks the ledger records, in percent of the committed compute.</summary>
    public static readonly IReadOnlyList<int> DrawdownMarks = [50, 75, 90, 100];

    public string Id => Terms.CommitmentId;

    public static Commitment Create(CommitmentOffered offered) => new(
        offered.Terms,
        CommitmentStatus.Offered,
        null,
        ImmutableDictionary<string, LocalDate>.Empty.WithComparers(StringComparer.Ordinal),
        ImmutableDictionary<string, LocalDate>.Empty.WithComparers(StringComparer.Ordinal));

    public Commitment Apply(object @event) => @event switch
    {
        CommitmentSigned e => this with
        {
            Status = CommitmentStatus.Signed,
            SignedOn = e.SignedOn,
            ReleasedTranches = ReleasedTranches.SetItem(CommitmentTerms.UpfrontTrancheId, e.SignedOn),
        },
        CommitmentDeclined => this with { Status = CommitmentStatus.Declined },
        MilestoneAchieved e => this with { AchievedMilestones = AchievedMilestones.SetItem(e.MilestoneId, e.AchievedOn) },
        MilestoneMissed e => this with { MissedMilestones = MissedMilestones.Add(e.MilestoneId) },
        MilestoneThresholdReverted e => this with { ThresholdReverted = ThresholdReverted.Add(e.MilestoneId) },
        MilestoneRevoked e => this with { AchievedMilestones = AchievedMilestones.Remove(e.MilestoneId), RevokedMilestones = RevokedMilestones.Add(e.MilestoneId) },
        TrancheReleased e => this with { ReleasedTranches = ReleasedTranches.SetItem(e.TrancheId, e.ReleasedOn) },
        DrawdownThresholdCrossed e => this with { DrawdownThresholdsCrossed = DrawdownThresholdsCrossed.Add(e.Percent) },
        _ => this,
    };

    /// <summary>Folds a whole stream, oldest first; null when the stream is empty.</summary>
    public static Commitment? Fold(IEnumerable<object> events)
    {
        Commitment? state = null;
        foreach (var e in events)
        {
            state = state is null
                ? e is CommitmentOffered offered ? Create(offered) : null
                : state.Apply(e);
        }

        return state;
    }

    /// <summary>A tranche is eligible once the deal is signed and every milestone it needs is achieved.</summary>
    public bool IsEligible(TrancheDefinition tranche) =>
        Status == CommitmentStatus.Signed && tranche.Milestones.All(AchievedMilestones.ContainsKey);
}
