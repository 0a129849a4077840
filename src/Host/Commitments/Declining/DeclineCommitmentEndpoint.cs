using System.Security.Claims;
using ComputeLedger.Host.Infrastructure;
using ComputeLedger.Ledger.Commitments.Declining;
using Marten;
using Wolverine;
using Wolverine.Http;

namespace ComputeLedger.Host.Commitments.Declining;

public sealed record DeclineRequest(LocalDate? DeclinedOn, string? Reason, long? ExpectedVersion);

public static class DeclineCommitmentEndpoint
{
    [WolverinePost("/api/commitments/{id}/decline", OperationId = "DeclineCommitment")]
    [Tags("Commitments")]
    public static Task<IResult> Post(string id, DeclineRequest? request, IDocumentSession session, IMessageBus bus, IClock clock, ClaimsPrincipal user, HttpRequest http, CancellationToken ct)
    {
        var errors = new List<(string, string)>();
        var declinedOn = Fields.Date(request?.DeclinedOn, "declinedOn", errors, required: false);
        var reason = Fields.Text(request?.Reason, "reason", errors);
        if (errors.Count > 0)
        {
            return Task.FromResult<IResult>(Problems.Invalid(errors));
        }

        var command = new DeclineCommitment(id, declinedOn, reason, Caller.From(user).Name);
        return CommitmentStream.Decide(session, bus, id, CommitmentStream.ExpectedVersion(request?.ExpectedVersion, http),
            state => DeclineCommitmentDecider.Decide(command, state, clock.GetCurrentInstant()), ct);
    }
}
