using System.Security.Claims;
using System.Text.RegularExpressions;
using ComputeLedger.Host.Infrastructure;
using ComputeLedger.Ledger.Commitments;
using ComputeLedger.Ledger.Commitments.Recording;
using ComputeLedger.Host.Integration;
using Marten;
using Wolverine;
using Wolverine.Http;

namespace ComputeLedger.Host.Commitments.Recording;

public sealed record MoneyBody(decimal? Amount, string? Currency);

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

public static partial class RecordCommitmentEndpoint
{
    [WolverinePost("/api/commitments", OperationId = "RecordCommitment")]
    [Tags("Commitments")]
    public static async Task<IResult> Post(RecordCommitmentRequest request, IDocumentSession session, IMessageBus bus, IClock clock, ClaimsPrincipal user, CancellationToken ct)
    {
        var (command, errors) = ToCommand(request, Caller.From(user));
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

        await LedgerOutbox.Append(session, bus, command.Terms.CommitmentId, null, 0, events);
        await session.SaveChangesAsync(ct);

        var view = await session.LoadAsync<Projections.Commitments.TrancheEligibility>(command.Terms.CommitmentId, ct);
        return TypedResults.Created($"/api/commitments/{command.Terms.CommitmentId}/eligibility", EligibilityResponse.From(view!));
    }

    /// <summary>Shape validation of the body: every missing or malformed field is named, all at once.</summary>
    public static (RecordCommitment? Command, IReadOnlyList<(string Field, string Message)> Errors) ToCommand(RecordCommitmentRequest r, Caller caller)
    {
        var errors = new List<(string, string)>();

        var id = RequireId(r.CommitmentId, "commitmentId", errors);
        var investor = Require(r.Investor, "investor", errors);
        var partner = Require(r.Partner, "partner", errors);
        var provider = Require(r.Provider, "provider", errors);
        var headline = RequireMoney(r.Headline, "headline", errors);
        var upfront = r.Upfront is null ? headline is { } h ? Money.Zero(h.Currency) : (Money?)null : RequireMoney(r.Upfront, "upfront", errors);

        CommitmentStatus? status = r.Status switch
        {
            null => null,
            _ when Enum.TryParse<CommitmentStatus>(r.Status, ignoreCase: true, out var s) && s != CommitmentStatus.Declined => s,
            _ => null,
        };
        if (status is null)
        {
            errors.Add(("status", r.Status is null ? "status is required: Offered or Signed." : $"status must be Offered or Signed, not '{r.Status}'."));
        }
        else if (status == CommitmentStatus.Signed && r.SignedOn is null)
        {
            errors.Add(("signedOn", "a Signed commitment needs its signedOn date (yyyy-MM-dd)."));
        }
        else if (status == CommitmentStatus.Offered && r.SignedOn is not null)
        {
            errors.Add(("signedOn", "an Offered commitment has no signedOn date until it is signed (POST .../sign)."));
        }

        var milestones = new List<MilestoneDefinition>();
        for (var i = 0; i < (r.Milestones?.Count ?? 0); i++)
        {
            var m = r.Milestones![i];
            var field = $"milestones[{i}]";
            if (m is null)
            {
                errors.Add((field, "a milestone cannot be null."));
                continue;
            }

            var milestoneId = RequireId(m.MilestoneId, $"{field}.milestoneId", errors);
            MilestoneKind? kind = (m.Kind ?? "attested").ToLowerInvariant() switch
            {
                "attested" => MilestoneKind.Attested,
                "consumption" => MilestoneKind.Consumption,
                _ => null,
            };
            if (kind is null)
            {
                errors.Add(($"{field}.kind", $"kind must be 'attested' or 'consumption', not '{m.Kind}'."));
            }

            ConsumptionThreshold? threshold = null;
            if (kind == MilestoneKind.Consumption)
            {
                var spend = m.Threshold?.Spend is null ? null : RequireMoney(m.Threshold.Spend, $"{field}.threshold.spend", errors);
                threshold = new ConsumptionThreshold(spend, m.Threshold?.ChipHours);
            }

            if (milestoneId is not null && kind is not null)
            {
                var chips = m.Chips?.Where(c => !string.IsNullOrWhiteSpace(c)).Select(c => c!.Trim()).ToList();
                milestones.Add(new MilestoneDefinition(milestoneId, m.Description ?? "", kind.Value, threshold,
                    chips is { Count: > 0 } ? chips : null, m.Deadline));
            }
        }

        var tranches = new List<TrancheDefinition>();
        for (var i = 0; i < (r.Tranches?.Count ?? 0); i++)
        {
            var t = r.Tranches![i];
            var field = $"tranches[{i}]";
            if (t is null)
            {
                errors.Add((field, "a tranche cannot be null."));
                continue;
            }

            var trancheId = RequireId(t.TrancheId, $"{field}.trancheId", errors);
            var amount = RequireMoney(t.Amount, $"{field}.amount", errors);
            var needs = t.Milestones ?? [];
            if (needs.Any(string.IsNullOrWhiteSpace))
            {
                errors.Add(($"{field}.milestones", "milestone ids cannot be empty."));
            }

            if (trancheId is not null && amount is not null)
            {
                tranches.Add(new TrancheDefinition(trancheId, amount.Value, needs.Where(n => !string.IsNullOrWhiteSpace(n)).Select(n => n!).ToList()));
            }
        }

        ComputeCommitment? compute = null;
        if (r.ComputeCommitment is { } c)
        {
            var computeProvider = c.Provider ?? provider;
            if (computeProvider is not null && provider is not null && computeProvider != provider)
            {
                errors.Add(("computeCommitment.provider", $"the compute commitment is with '{computeProvider}' but the commitment's provider is '{provider}'."));
            }

            var chips = c.Chips ?? [];
            if (chips.Any(string.IsNullOrWhiteSpace))
            {
                errors.Add(("computeCommitment.chips", "chip names cannot be empty."));
            }

            var spend = RequireMoney(c.CommittedSpend, "computeCommitment.committedSpend", errors);
            if (c.TermStart is null)
            {
                errors.Add(("computeCommitment.termStart", "termStart is required (yyyy-MM-dd)."));
            }

            if (c.TermEnd is null)
            {
                errors.Add(("computeCommitment.termEnd", "termEnd is required (yyyy-MM-dd)."));
            }

            if (spend is not null && c.TermStart is not null && c.TermEnd is not null && computeProvider is not null)
            {
                compute = new ComputeCommitment(computeProvider, chips.Where(x => !string.IsNullOrWhiteSpace(x)).Select(x => x!).Distinct().ToList(),
                    spend.Value, c.TermStart.Value, c.TermEnd.Value);
            }
        }

        if (errors.Count > 0 || id is null || investor is null || partner is null || provider is null || headline is null || upfront is null)
        {
            return (null, errors);
        }

        var terms = new CommitmentTerms(id, investor, partner, provider, r.Structure ?? "", headline.Value, upfront.Value, milestones, tranches, compute);
        var violations = terms.Violations();
        return violations.Count > 0
            ? (null, violations)
            : (new RecordCommitment(terms, status == CommitmentStatus.Signed ? r.SignedOn : null, caller.Name), []);
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")]
    private static partial Regex IdPattern();

    private static string? Require(string? value, string field, List<(string, string)> errors)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            errors.Add((field, $"{field} is required."));
            return null;
        }

        return value.Trim();
    }

    internal static string? RequireId(string? value, string field, List<(string, string)> errors)
    {
        var id = Require(value, field, errors);
        if (id is not null && !IdPattern().IsMatch(id))
        {
            errors.Add((field, $"{field} '{id}' must be 1-100 letters, digits, '.', '_' or '-', starting with a letter or digit."));
            return null;
        }

        return id;
    }

    internal static Money? RequireMoney(MoneyBody? value, string field, List<(string, string)> errors)
    {
        if (value is null)
        {
            errors.Add((field, $"{field} is required, as {{ \"amount\": 1000, \"currency\": \"USD\" }}."));
            return null;
        }

        var ok = true;
        if (value.Amount is null)
        {
            errors.Add(($"{field}.amount", $"{field}.amount is required."));
            ok = false;
        }
        else if (value.Amount < 0)
        {
            errors.Add(($"{field}.amount", $"{field}.amount cannot be negative."));
            ok = false;
        }

        if (!Money.IsCurrencyCode(value.Currency))
        {
            errors.Add(($"{field}.currency", $"{field}.currency must be a three-letter ISO 4217 code such as USD, not '{value.Currency}'."));
            ok = false;
        }

        return ok ? new Money(value.Amount!.Value, value.Currency!) : null;
    }
}
