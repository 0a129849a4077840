namespace ComputeLedger.Ledger.Commitments;

public enum CommitmentStatus
{
    Offered,
    Signed,
    Declined,
}

/// <summary>
/// How a milestone is achieved. Attested: an admin records it with evidence. Consumption: the ledger
/// detects it from usage (a later capability), so new kinds are added here, never by reusing one.
/// </summary>
public enum MilestoneKind
{
    Attested,
    Consumption,
}

/// <summary>
/// What a consumption milestone waits for: cumulative spend or cumulative chip-hours on the commitment. Exactly one is set.
/// </summary>
public sealed record ConsumptionThreshold(Money? Spend, decimal? ChipHours);

/// <summary>
/// A milestone the deal declares. Ids are unique within the commitment. A consumption milestone carries its threshold,
/// optionally the chips that count toward it, and optionally a deadline.
/// </summary>
public sealed record MilestoneDefinition(
    string MilestoneId,
    string Description,
    MilestoneKind Kind,
    ConsumptionThreshold? Threshold = null,
    IReadOnlyList<string>? Chips = null,
    LocalDate? Deadline = null);

/// <summary>A milestone tranche: an amount payable once every milestone it names is achieved.</summary>
public sealed record TrancheDefinition(string TrancheId, Money Amount, IReadOnlyList<string> Milestones);

/// <summary>
/// The compute side of a deal: what the partner commits to spend with the provider, on which chips, over which term.
/// Invariant: <see cref="TermEnd"/> is after <see cref="TermStart"/>.
/// </summary>
public sealed record ComputeCommitment(
    string Provider,
    IReadOnlyList<string> Chips,
    Money CommittedSpend,
    LocalDate TermStart,
    LocalDate TermEnd);

/// <summary>Everything a commitment promises, as agreed. The id of the upfront part is reserved.</summary>
public sealed record CommitmentTerms(
    string CommitmentId,
    string Investor,
    string Partner,
    string Provider,
    string Structure,
    Money Headline,
    Money Upfront,
    IReadOnlyList<MilestoneDefinition> Milestones,
    IReadOnlyList<TrancheDefinition> Tranches,
    ComputeCommitment? Compute)
{
    public const string UpfrontTrancheId = "upfront";

    /// <summary>
    /// The invariants of the terms themselves, as (field, message) pairs; empty when they hold.
    /// Upfront plus tranches must equal the headline, in one currency, and every reference must resolve.
    /// </summary>
    public IReadOnlyList<(string Field, string Message)> Violations()
    {
        var errors = new List<(string, string)>();
        var currency = Headline.Currency;

        if (Headline.Amount <= 0)
        {
            errors.Add(("headline.amount", $"headline must be positive, got {Headline}."));
        }

        if (Upfront.Amount < 0)
        {
            errors.Add(("upfront.amount", $"upfront cannot be negative, got {Upfront}."));
        }

        if (Upfront.Currency != currency)
        {
            errors.Add(("upfront.currency", $"upfront is in {Upfront.Currency} but the headline is in {currency}."));
        }

        var milestoneIds = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < Milestones.Count; i++)
        {
            if (!milestoneIds.Add(Milestones[i].MilestoneId))
            {
                errors.Add(($"milestones[{i}].milestoneId", $"milestone '{Milestones[i].MilestoneId}' is declared twice."));
            }
        }

        for (var i = 0; i < Milestones.Count; i++)
        {
            var m = Milestones[i];
            if (m.Kind != MilestoneKind.Consumption)
            {
                continue;
            }

            if (m.Threshold is not { } t || (t.Spend is null) == (t.ChipHours is null))
            {
                errors.Add(($"milestones[{i}].threshold", $"consumption milestone '{m.MilestoneId}' needs a threshold of either spend or chipHours."));
            }
            else if (t.Spend is { } spend && (spend.Amount <= 0 || (Compute is { } c && spend.Currency != c.CommittedSpend.Currency)))
            {
                errors.Add(($"milestones[{i}].threshold.spend", $"the spend threshold of '{m.MilestoneId}' must be positive and in the compute commitment's currency."));
            }
            else if (t.ChipHours is <= 0)
            {
                errors.Add(($"milestones[{i}].threshold.chipHours", $"the chip-hours threshold of '{m.MilestoneId}' must be positive."));
            }

            if (Compute is null)
            {
                errors.Add(($"milestones[{i}].kind", $"consumption milestone '{m.MilestoneId}' needs a computeCommitment to consume against."));
            }
            else if (m.Chips?.FirstOrDefault(chip => !Compute.Chips.Contains(chip, StringComparer.OrdinalIgnoreCase)) is { } uncovered)
            {
                errors.Add(($"milestones[{i}].chips", $"chip '{uncovered}' of milestone '{m.MilestoneId}' is not in the compute commitment."));
            }
        }

        var trancheIds = new HashSet<string>(StringComparer.Ordinal) { UpfrontTrancheId };
        for (var i = 0; i < Tranches.Count; i++)
        {
            var tranche = Tranches[i];
            if (!trancheIds.Add(tranche.TrancheId))
            {
                errors.Add(($"tranches[{i}].trancheId", tranche.TrancheId == UpfrontTrancheId
                    ? "'upfront' is reserved for the upfront part."
                    : $"tranche '{tranche.TrancheId}' is declared twice."));
            }

            if (tranche.Amount.Amount <= 0)
            {
                errors.Add(($"tranches[{i}].amount", $"tranche '{tranche.TrancheId}' must have a positive amount, got {tranche.Amount}."));
            }

            if (tranche.Amount.Currency != currency)
            {
                errors.Add(($"tranches[{i}].amount.currency", $"tranche '{tranche.TrancheId}' is in {tranche.Amount.Currency} but the headline is in {currency}."));
            }

            foreach (var milestone in tranche.Milestones.Where(m => !milestoneIds.Contains(m)))
            {
                errors.Add(($"tranches[{i}].milestones", $"tranche '{tranche.TrancheId}' needs milestone '{milestone}', which is not declared in milestones."));
            }
        }

        if (errors.Count == 0)
        {
            var tranchesTotal = Tranches.Aggregate(0m, (sum, t) => sum + t.Amount.Amount);
            if (Upfront.Amount + tranchesTotal != Headline.Amount)
            {
                errors.Add(("headline", $"upfront + tranches must equal headline: {Exact(Upfront.Amount)} + {Exact(tranchesTotal)} = {Exact(Upfront.Amount + tranchesTotal)} {currency}, but headline is {Exact(Headline.Amount)} {currency}."));
            }
        }

        if (Compute is { } compute)
        {
            if (compute.TermEnd <= compute.TermStart)
            {
                errors.Add(("computeCommitment.termEnd", $"termEnd {compute.TermEnd:yyyy-MM-dd} must be after termStart {compute.TermStart:yyyy-MM-dd}."));
            }

            if (compute.CommittedSpend.Amount < 0)
            {
                errors.Add(("computeCommitment.committedSpend", "committedSpend cannot be negative."));
            }

            if (compute.Chips.Count == 0)
            {
                errors.Add(("computeCommitment.chips", "name at least one chip family the compute is committed on."));
            }
        }

        return errors;
    }

    /// <summary>Every digit of an amount: a message that rounds can claim two different sums are equal.</summary>
    private static string Exact(decimal amount) => amount.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public TrancheDefinition? FindTranche(string trancheId) =>
        Tranches.FirstOrDefault(t => string.Equals(t.TrancheId, trancheId, StringComparison.Ordinal));

    public MilestoneDefinition? FindMilestone(string milestoneId) =>
        Milestones.FirstOrDefault(m => string.Equals(m.MilestoneId, milestoneId, StringComparison.Ordinal));
}
