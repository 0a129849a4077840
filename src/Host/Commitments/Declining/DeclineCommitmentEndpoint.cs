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
        var command = new DeclineCommitment(id, request?.DeclinedOn, request?.Reason, Caller.From(user).Name);
        return CommitmentStream.Decide(session, bus, id, CommitmentStream.ExpectedVersion(request?.ExpectedVersion, http),
            state => DeclineCommitmentDecider.Decide(command, state, clock.GetCurrentInstant()), ct);
    }
}
