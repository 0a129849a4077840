using ComputeLedger.Ledger.Commitments;
using ComputeLedger.Projections.Commitments;

namespace ComputeLedger.Host.Commitments;

/// <summary>The eligibility contract over HTTP: names and shapes here are what clients code against.</summary>
public sealed record EligibilityResponse(
    string CommitmentId,
    string Investor,
    string Partner,
    string Provider,
    CommitmentStatus Status,
    string Structure,
    LocalDate? SignedOn,
    Money Headline,
    Money Released,
    Money Eligible,
    Money Locked,
    IReadOnlyList<TrancheProgress> Tranches,
    ComputeCommitment? ComputeCommitment,
    int Version)
{
    public static EligibilityResponse From(TrancheEligibility view) => new(
        view.CommitmentId, view.Investor, view.Partner, view.Provider, view.Status, view.Structure, view.SignedOn,
        view.Headline, view.Released, view.Eligible, view.Locked, view.Tranches, view.ComputeCommitment, view.Version);
}

/// <summary>One line of the commitments list: the totals without the tranche detail.</summary>
public sealed record CommitmentSummary(
    string CommitmentId,
    string Investor,
    string Partner,
    string Provider,
    CommitmentStatus Status,
    string Structure,
    LocalDate? SignedOn,
    Money Headline,
    Money Released,
    Money Eligible,
    Money Locked,
    int Version)
{
    public static CommitmentSummary From(TrancheEligibility view) => new(
        view.CommitmentId, view.Investor, view.Partner, view.Provider, view.Status, view.Structure, view.SignedOn,
        view.Headline, view.Released, view.Eligible, view.Locked, view.Version);
}
