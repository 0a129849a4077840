using ComputeLedger.Host.Infrastructure;
using ComputeLedger.Ledger.Commitments;
using ComputeLedger.Ledger.Commitments.Recording;

namespace ComputeLedger.Host.Commitments.Recording;

public sealed record ThresholdBody(MoneyBody? Spend, decimal? ChipHours);

public sealed record MilestoneBody(string? MilestoneId, string? Description, string? Kind, ThresholdBody? Threshold = null,
    List<string?>? Chips = null, LocalDate? Deadline = null);

public sealed record TrancheBody(string? TrancheId, MoneyBody? Amount, List<string?>? Milestones);

public sealed record ComputeCommitmentBody(
    string? Provider, List<string?>? Chips, MoneyBody? CommittedSpend, LocalDate? TermStart, LocalDate? TermEnd);

public sealed record RecordCommitmentRequest(
    string? CommitmentId,
    string? Investor,
    string? Partner,
    string? Provider,
    string? Status,
    LocalDate? SignedOn,
    string? Structure,
    MoneyBody? Headline,
    MoneyBody? Upfront,
    List<MilestoneBody?>? Milestones,
    List<TrancheBody?>? Tranches,
    ComputeCommitmentBody? ComputeCommitment);

/// <summary>The request's body as a <see cref="RecordCommitment"/> command, or every field at fault.</summary>
public static class RecordCommitmentRequests
{
    /// <summary>Shape validation of the body: every missing or malformed field is named, all at once. <paramref name="catalog"/> holds the chip names the ledger knows.</summary>
    public static (RecordCommitment? Command, IReadOnlyList<(string Field, string Message)> Errors) ToCommand(RecordCommitmentRequest r, Caller caller,
        IReadOnlySet<string> catalog)
    {
        var errors = new List<(string, string)>();

        var id = Fields.Id(r.CommitmentId, "commitmentId", errors);
        var investor = Fields.Name(r.Investor, "investor", errors);
        var partner = Fields.Name(r.Partner, "partner", errors);
        var provider = Fields.Name(r.Provider, "provider", errors);
        var structure = Fields.Text(r.Structure, "structure", errors);
        var headline = Fields.Money(r.Headline, "headline", errors);
        var upfront = r.Upfront is null ? headline is { } h ? Money.Zero(h.Currency) : (Money?)null : Fields.Money(r.Upfront, "upfront", errors);

        CommitmentStatus? status = r.Status switch
        {
            null => null,
            _ when Enum.TryParse<CommitmentStatus>(r.Status, ignoreCase: true, out var s) && s != CommitmentStatus.Declined && Enum.IsDefined(s) => s,
            _ => null,
        };
        if (status is null)
        {
            errors.Add(("status", r.Status is null ? "status is required: Offered or Signed." : "status must be Offered or Signed."));
        }
        else if (status == CommitmentStatus.Signed && r.SignedOn is null)
        {
            errors.Add(("signedOn", "a Signed commitment needs its signedOn date (yyyy-MM-dd)."));
        }
        else if (status == CommitmentStatus.Offered && r.SignedOn is not null)
        {
            errors.Add(("signedOn", "an Offered commitment has no signedOn date until it is signed (POST .../sign)."));
        }

        var signedOn = Fields.Date(r.SignedOn, "signedOn", errors, required: false);
        var oversized = new[] { ("milestones", r.Milestones?.Count), ("tranches", r.Tranches?.Count), ("computeCommitment.chips", r.ComputeCommitment?.Chips?.Count) }
            .Concat(r.Tranches?.Select((t, i) => ($"tranches[{i}].milestones", t?.Milestones?.Count)) ?? [])
            .Where(list => list.Item2 > Limits.MaxListItems)
            .Select(list => (list.Item1, $"{list.Item1} lists {list.Item2} entries; a commitment has at most {Limits.MaxListItems}."))
            .ToList();
        if (oversized.Count > 0)
        {
            // Checked before the entries, so a huge list costs one answer, not one error per entry.
            return (null, [.. errors, .. oversized]);
        }

        var milestones = CommitmentBodies.Milestones(r.Milestones, errors);
        var tranches = CommitmentBodies.Tranches(r.Tranches, errors);
        var compute = r.ComputeCommitment is null ? null : CommitmentBodies.Compute(r.ComputeCommitment, provider, catalog, errors);

        if (errors.Count > 0 || id is null || investor is null || partner is null || provider is null || headline is null || upfront is null)
        {
            return (null, errors);
        }

        var terms = new CommitmentTerms(id, investor, partner, provider, structure ?? "", headline.Value, upfront.Value, milestones, tranches, compute);
        var violations = terms.Violations();
        return violations.Count > 0
            ? (null, violations)
            : (new RecordCommitment(terms, status == CommitmentStatus.Signed ? signedOn : null, caller.Name), []);
    }
}
