using System.Security.Claims;
using ComputeLedger.Host.Infrastructure;
using ComputeLedger.Ledger.Commitments;
using ComputeLedger.Ledger.Commitments.Recording;
using ComputeLedger.Host.Integration;
using ComputeLedger.Projections.Catalog;
using Marten;
using Wolverine;
using Wolverine.Http;

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

public static class RecordCommitmentEndpoint
{
    [WolverinePost("/api/commitments", OperationId = "RecordCommitment")]
    [Tags("Commitments")]
    public static async Task<IResult> Post(RecordCommitmentRequest? request, IDocumentSession session, IMessageBus bus, IClock clock, ClaimsPrincipal user, CancellationToken ct)
    {
        if (request is null)
        {
            return Problems.Invalid("body", "the body must be a JSON object describing the commitment (see the README's example).");
        }

        var catalog = (await session.Query<ChipView>().ToListAsync(ct)).Select(c => c.Name).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var (command, errors) = ToCommand(request, Caller.From(user), catalog);
        if (command is null)
        {
            return Problems.Invalid(errors);
        }

        IReadOnlyList<object> events;
        try
        {
            var existing = await session.Events.FetchStreamAsync(command.Terms.CommitmentId, token: ct);
            events = RecordCommitmentDecider.Decide(command, Commitment.Fold(existing.Select(e => e.Data)), clock.GetCurrentInstant());
        }
        catch (RuleViolation violation)
        {
            return Problems.From(violation);
        }

        await CommitmentStream.Start(session, bus, command.Terms.CommitmentId, events);
        await session.SaveChangesAsync(ct);

        var view = await session.LoadAsync<Projections.Commitments.TrancheEligibility>(command.Terms.CommitmentId, ct);
        return TypedResults.Created($"/api/commitments/{command.Terms.CommitmentId}/eligibility", EligibilityResponse.From(view!));
    }

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

        var milestones = Milestones(r.Milestones, errors);
        var tranches = Tranches(r.Tranches, errors);
        var compute = r.ComputeCommitment is null ? null : Compute(r.ComputeCommitment, provider, catalog, errors);

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

    private static List<MilestoneDefinition> Milestones(List<MilestoneBody?>? bodies, List<(string, string)> errors)
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

    private static List<TrancheDefinition> Tranches(List<TrancheBody?>? bodies, List<(string, string)> errors)
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

    private static ComputeCommitment? Compute(ComputeCommitmentBody c, string? provider, IReadOnlySet<string> catalog, List<(string, string)> errors)
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
