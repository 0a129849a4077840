namespace ComputeLedger.Ledger.Commitments.Recording;

/// <summary>Put a deal on the ledger, either as an offer or as already signed (then <paramref name="SignedOn"/> is set).</summary>
public sealed record RecordCommitment(CommitmentTerms Terms, LocalDate? SignedOn, string RequestedBy);

public static class RecordCommitmentDecider
{
    public static IReadOnlyList<object> Decide(RecordCommitment command, Commitment? existing, Instant now)
    {
        if (existing is not null)
        {
            throw RuleViolation.Conflict($"Commitment '{command.Terms.CommitmentId}' already exists; ids are unique.");
        }

        if (command.Terms.Violations() is [var first, ..])
        {
            throw RuleViolation.Invalid(first.Field, first.Message);
        }

        var offered = new CommitmentOffered(command.Terms, now, command.RequestedBy);
        return command.SignedOn is { } signedOn
            ? [offered, new CommitmentSigned(command.Terms.CommitmentId, signedOn, command.Terms.Upfront, now, command.RequestedBy)]
            : [offered];
    }
}
