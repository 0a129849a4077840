using System.Security.Claims;
using ComputeLedger.Host.Infrastructure;
using ComputeLedger.Ledger.Commitments.Signing;
using Marten;
using Wolverine;
using Wolverine.Http;

namespace ComputeLedger.Host.Commitments.Signing;

public sealed record SignRequest(LocalDate? SignedOn, long? ExpectedVersion);

public static class SignCommitmentEndpoint
{
    [WolverinePost("/api/commitments/{id}/sign", OperationId = "SignCommitment")]
    [Tags("Commitments")]
    public static Task<IResult> Post(string id, SignRequest? request, IDocumentSession session, IMessageBus bus, IClock clock, ClaimsPrincipal user, HttpRequest http, CancellationToken ct)
    {
        var errors = new List<(string, string)>();
        if (Fields.Date(request?.SignedOn, "signedOn", errors, why: "the day the deal was signed, e.g. { \"signedOn\": \"2024-03-27\" }") is not { } signedOn)
        {
            return Task.FromResult<IResult>(Problems.Invalid(errors));
        }

        var command = new SignCommitment(id, signedOn, Caller.From(user).Name);
        return CommitmentStream.Decide(session, bus, id, CommitmentStream.ExpectedVersion(request!.ExpectedVersion, http),
            state => SignCommitmentDecider.Decide(command, state, clock.GetCurrentInstant()), ct);
    }
}
