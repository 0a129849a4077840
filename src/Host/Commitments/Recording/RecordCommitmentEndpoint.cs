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

/// <summary>Records a commitment: map and check the body, decide, start its stream, answer with its eligibility.</summary>
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
        var (command, errors) = RecordCommitmentRequests.ToCommand(request, Caller.From(user), catalog);
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
}
