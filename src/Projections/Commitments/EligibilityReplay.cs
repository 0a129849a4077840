using ComputeLedger.Ledger.Commitments;

namespace ComputeLedger.Projections.Commitments;

/// <summary>
/// Eligibility on both time axes: fold only the events recorded by the known-time cut-off (the caller filters those)
/// whose business date falls before the valid-time cut-off. The same <see cref="TrancheEligibility.Next"/> step as the
/// live read model, so a replay "as of now" equals the inline projection.
/// </summary>
public static class EligibilityReplay
{
    /// <summary>The business date an event takes effect on; null for facts that hold from the moment they are recorded.</summary>
    public static LocalDate? ValidOn(object @event) => @event switch
    {
        CommitmentSigned e => e.SignedOn,
        CommitmentDeclined e => e.DeclinedOn,
        MilestoneAchieved e => e.AchievedOn,
        TrancheReleased e => e.ReleasedOn,
        MilestoneRevoked e => e.AchievedOn,
        MilestoneMissed e => e.Deadline,
        _ => null,
    };

    /// <summary>Folds <paramref name="events"/> (oldest first), skipping facts whose business date is after <paramref name="asOf"/>.</summary>
    public static TrancheEligibility? Fold(IEnumerable<object> events, LocalDate? asOf)
    {
        TrancheEligibility? view = null;
        foreach (var e in events)
        {
            if (asOf is { } cutoff && ValidOn(e) is { } validOn && validOn > cutoff)
            {
                continue;
            }

            view = TrancheEligibility.Next(view, e);
        }

        return view;
    }
}
