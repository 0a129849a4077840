using ComputeLedger.Ledger.Commitments;
using JasperFx;

namespace ComputeLedger.Projections.Commitments;

public enum TrancheStatus
{
    Locked,
    Eligible,
    Released,
}

/// <summary>A declared milestone; <see cref="RevokedOn"/> is the date of a withdrawn attestation (null if none was withdrawn).</summary>
public sealed record MilestoneProgress(string MilestoneId, string Description, string Kind, LocalDate? AchievedOn, string? Evidence)
{
    public LocalDate? RevokedAchievement { get; init; }

    /// <summary>The deadline a consumption milestone missed, if it did.</summary>
    public LocalDate? MissedDeadline { get; init; }

    /// <summary>Achieved on consumption that voids or corrections have since taken back under the threshold.</summary>
    public bool ThresholdReverted { get; init; }
    public string? RevocationReason { get; init; }
}

public sealed record TrancheProgress(
    string TrancheId,
    Money Amount,
    TrancheStatus Status,
    LocalDate? ReleasedOn,
    IReadOnlyList<MilestoneProgress> Milestones)
{
    /// <summary>Released, but a milestone it was released on has since been revoked: treasury must look at it.</summary>
    public bool ReleasedOnRevokedMilestone { get; init; }
}

/// <summary>
/// What a deal promised and what has become payable: the answer to "how much is released, payable, still locked?".
/// Invariant: released + eligible + locked = headline.
/// </summary>
public sealed record TrancheEligibility
{
    [Identity]
    public required string CommitmentId { get; init; }
    public required string Investor { get; init; }
    public required string Partner { get; init; }
    public required string Provider { get; init; }
    public required string Structure { get; init; }
    public required CommitmentStatus Status { get; init; }
    public LocalDate? SignedOn { get; init; }
    public required Money Headline { get; init; }
    public required Money Released { get; init; }
    public required Money Eligible { get; init; }
    public required Money Locked { get; init; }
    public required IReadOnlyList<TrancheProgress> Tranches { get; init; }
    public ComputeCommitment? ComputeCommitment { get; init; }
    public required Instant RecordedAt { get; init; }
    public Instant LastChangedAt { get; init; }
    public int Version { get; set; }

    /// <summary>Pure fold step, shared by the inline projection and every replay; time comes from the events.</summary>
    public static TrancheEligibility? Next(TrancheEligibility? current, object @event) => (current, @event) switch
    {
        (null, CommitmentOffered e) => FromTerms(e.Terms, e.RecordedAt),
        (null, _) => null,
        (_, CommitmentSigned e) => current.WithTranche(CommitmentTerms.UpfrontTrancheId, t => t with { ReleasedOn = e.SignedOn })
            .Recompute(CommitmentStatus.Signed, e.SignedOn, e.RecordedAt),
        (_, CommitmentDeclined e) => current.Recompute(CommitmentStatus.Declined, current.SignedOn, e.RecordedAt),
        (_, MilestoneAchieved e) => current.WithMilestone(e.MilestoneId, m => m with { AchievedOn = e.AchievedOn, Evidence = e.Evidence })
            .Recompute(current.Status, current.SignedOn, e.RecordedAt),
        (_, MilestoneMissed e) => current.WithMilestone(e.MilestoneId, m => m with { MissedDeadline = e.Deadline }),
        (_, MilestoneThresholdReverted e) => current.WithMilestone(e.MilestoneId, m => m with { ThresholdReverted = true }),
        (_, MilestoneRevoked e) => current.WithMilestone(e.MilestoneId, m => m with
            {
                AchievedOn = null,
                Evidence = null,
                RevokedAchievement = e.AchievedOn,
                RevocationReason = e.Reason,
            })
            .Recompute(current.Status, current.SignedOn, e.RecordedAt),
        (_, TrancheReleased e) => current.WithTranche(e.TrancheId, t => t with { ReleasedOn = e.ReleasedOn })
            .Recompute(current.Status, current.SignedOn, e.RecordedAt),
        _ => current,
    };

    private static TrancheEligibility FromTerms(CommitmentTerms terms, Instant recordedAt)
    {
        var byId = terms.Milestones.ToDictionary(m => m.MilestoneId, StringComparer.Ordinal);
        var upfront = new TrancheProgress(CommitmentTerms.UpfrontTrancheId, terms.Upfront, TrancheStatus.Locked, null, []);
        var tranches = terms.Tranches.Select(t => new TrancheProgress(
            t.TrancheId,
            t.Amount,
            TrancheStatus.Locked,
            null,
            t.Milestones.Select(id => byId.TryGetValue(id, out var m)
                ? new MilestoneProgress(m.MilestoneId, m.Description, m.Kind.ToString().ToLowerInvariant(), null, null)
                : new MilestoneProgress(id, "", "attested", null, null)).ToList()));

        var zero = Money.Zero(terms.Headline.Currency);
        return new TrancheEligibility
        {
            CommitmentId = terms.CommitmentId,
            Investor = terms.Investor,
            Partner = terms.Partner,
            Provider = terms.Provider,
            Structure = terms.Structure,
            Status = CommitmentStatus.Offered,
            Headline = terms.Headline,
            Released = zero,
            Eligible = zero,
            Locked = terms.Headline,
            Tranches = [upfront, .. tranches],
            ComputeCommitment = terms.Compute,
            RecordedAt = recordedAt,
            LastChangedAt = recordedAt,
        };
    }

    private TrancheEligibility WithTranche(string trancheId, Func<TrancheProgress, TrancheProgress> change) =>
        this with { Tranches = Tranches.Select(t => t.TrancheId == trancheId ? change(t) : t).ToList() };

    private TrancheEligibility WithMilestone(string milestoneId, Func<MilestoneProgress, MilestoneProgress> change) =>
        this with
        {
            Tranches = Tranches.Select(t => t with
            {
                Milestones = t.Milestones.Select(m => m.MilestoneId == milestoneId ? change(m) : m).ToList(),
            }).ToList(),
        };

    /// <summary>Statuses and totals are derived from the facts every time, so they can never drift apart.</summary>
    private TrancheEligibility Recompute(CommitmentStatus status, LocalDate? signedOn, Instant changedAt)
    {
        var tranches = Tranches.Select(t => t with
        {
            Status = t.ReleasedOn is not null ? TrancheStatus.Released
                : status == CommitmentStatus.Signed && t.TrancheId != CommitmentTerms.UpfrontTrancheId
                  && t.Milestones.All(m => m.AchievedOn is not null) ? TrancheStatus.Eligible
                : TrancheStatus.Locked,
            ReleasedOnRevokedMilestone = t.ReleasedOn is not null && t.Milestones.Any(m => m.AchievedOn is null && m.RevokedAchievement is not null),
        }).ToList();

        Money Sum(TrancheStatus s) => tranches.Where(t => t.Status == s)
            .Aggregate(Money.Zero(Headline.Currency), (sum, t) => sum.Plus(t.Amount));

        return this with
        {
            Status = status,
            SignedOn = signedOn,
            Tranches = tranches,
            Released = Sum(TrancheStatus.Released),
            Eligible = Sum(TrancheStatus.Eligible),
            Locked = Sum(TrancheStatus.Locked),
            LastChangedAt = changedAt,
        };
    }
}
