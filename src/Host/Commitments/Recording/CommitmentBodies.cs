using ComputeLedger.Host.Infrastructure;
using ComputeLedger.Ledger.Commitments;

namespace ComputeLedger.Host.Commitments.Recording;

/// <summary>The nested parts of a commitment's body (milestones, tranches, compute commitment), checked field by field.</summary>
internal static class CommitmentBodies
{
    internal static List<MilestoneDefinition> Milestones(List<MilestoneBody?>? bodies, List<(string, string)> errors)
    {
        var milestones = new List<MilestoneDefinition>();
        for (var i = 0; i < (bodies?.Count ?? 0); i++)
        {
            var m = bodies![i];
            var field = $"milestones[{i}]";
            if (m is null)
            {
                errors.Add((field, "a milestone cannot be null."));
                continue;
            }

            var milestoneId = Fields.Id(m.MilestoneId, $"{field}.milestoneId", errors);
            var description = Fields.Text(m.Description, $"{field}.description", errors);
            MilestoneKind? kind = (m.Kind ?? "attested").ToLowerInvariant() switch
            {
                "attested" => MilestoneKind.Attested,
                "consumption" => MilestoneKind.Consumption,
                _ => null,
            };
            if (kind is null)
            {
                errors.Add(($"{field}.kind", "kind must be 'attested' or 'consumption'."));
            }

            ConsumptionThreshold? threshold = null;
            if (kind == MilestoneKind.Consumption)
            {
                var spend = m.Threshold?.Spend is null ? null : Fields.Money(m.Threshold.Spend, $"{field}.threshold.spend", errors);
                var hours = m.Threshold?.ChipHours;
                if (hours is { } h && Limits.Amount(h, Limits.ChipHoursDecimals) is { } wrong)
                {
                    errors.Add(($"{field}.threshold.chipHours", $"{field}.threshold.chipHours {wrong}"));
                }

                threshold = new ConsumptionThreshold(spend, hours);
            }

            var chips = new List<string>();
            for (var c = 0; c < (m.Chips?.Count ?? 0); c++)
            {
                if (Fields.Id(m.Chips![c], $"{field}.chips[{c}]", errors) is { } chip)
                {
                    chips.Add(chip);
                }
            }

            var deadline = Fields.Date(m.Deadline, $"{field}.deadline", errors, required: false);
            if (milestoneId is not null && kind is not null)
            {
                milestones.Add(new MilestoneDefinition(milestoneId, description ?? "", kind.Value, threshold, chips is { Count: > 0 } ? chips : null, deadline));
            }
        }

        return milestones;
    }

    internal static List<TrancheDefinition> Tranches(List<TrancheBody?>? bodies, List<(string, string)> errors)
    {
        var tranches = new List<TrancheDefinition>();
        for (var i = 0; i < (bodies?.Count ?? 0); i++)
        {
            var t = bodies![i];
            var field = $"tranches[{i}]";
            if (t is null)
            {
                errors.Add((field, "a tranche cannot be null."));
                continue;
            }

            var trancheId = Fields.Id(t.TrancheId, $"{field}.trancheId", errors);
            var amount = Fields.Money(t.Amount, $"{field}.amount", errors);
            var needs = new List<string>();
            for (var n = 0; n < (t.Milestones?.Count ?? 0); n++)
            {
                if (Fields.Id(t.Milestones![n], $"{field}.milestones[{n}]", errors) is { } need)
                {
                    needs.Add(need);
                }
            }

            if (trancheId is not null && amount is not null)
            {
                tranches.Add(new TrancheDefinition(trancheId, amount.Value, needs));
            }
        }

        return tranches;
    }

    internal static ComputeCommitment? Compute(ComputeCommitmentBody c, string? provider, IReadOnlySet<string> catalog, List<(string, string)> errors)
    {
        var computeProvider = c.Provider is null ? provider : Fields.Name(c.Provider, "computeCommitment.provider", errors);
        if (computeProvider is not null && provider is not null && computeProvider != provider)
        {
            errors.Add(("computeCommitment.provider", $"the compute commitment is with '{computeProvider}' but the commitment's provider is '{provider}'."));
        }

        var chips = new List<string>();
        for (var i = 0; i < (c.Chips?.Count ?? 0); i++)
        {
            var field = $"computeCommitment.chips[{i}]";
            if (Fields.Id(c.Chips![i], field, errors) is not { } chip)
            {
                continue;
            }

            if (!catalog.Contains(chip))
            {
                errors.Add((field, $"chip '{chip}' is not in the chip catalog (GET /api/chips); add it with POST /api/chips first."));
            }
            else if (!chips.Contains(chip, StringComparer.OrdinalIgnoreCase))
            {
                chips.Add(chip);
            }
        }

        var spend = Fields.Money(c.CommittedSpend, "computeCommitment.committedSpend", errors);
        var termStart = Fields.Date(c.TermStart, "computeCommitment.termStart", errors, why: "the first day of the term");
        var termEnd = Fields.Date(c.TermEnd, "computeCommitment.termEnd", errors, why: "the last day of the term");
        return spend is not null && termStart is not null && termEnd is not null && computeProvider is not null
            ? new ComputeCommitment(computeProvider, chips, spend.Value, termStart.Value, termEnd.Value)
            : null;
    }
}
