using System.Security.Claims;
using ComputeLedger.Host.Infrastructure;
using ComputeLedger.Ledger.Commitments.ReleasingTranche;
using Marten;
using Wolverine;
using Wolverine.Http;

namespace ComputeLedger.Host.Commitments.ReleasingTranche;

public sealed record ReleaseTrancheRequest(LocalDate? ReleasedOn, long? ExpectedVersion);

public static class ReleaseTrancheEndpoint
{
    [WolverinePost("/api/commitments/{id}/tranches/{trancheId}/release", OperationId = "ReleaseTranche")]
    [Tags("Commitments")]
    public static Task<IResult> Post(string id, string trancheId, ReleaseTrancheRequest? request, IDocumentSession session, IMessageBus bus, IClock clock,
        ClaimsPrincipal user, HttpRequest http, CancellationToken ct)
    {
        var errors = new List<(string, string)>();
        if (Fields.Date(request?.ReleasedOn, "releasedOn", errors, why: "the business date the tranche is paid") is not { } releasedOn)
        {
            return Task.FromResult<IResult>(Problems.Invalid(errors));
        }

        var command = new ReleaseTranche(id, trancheId, releasedOn, Caller.From(user).Name);
        return CommitmentStream.Decide(session, bus, id, CommitmentStream.ExpectedVersion(request!.ExpectedVersion, http),
            state => ReleaseTrancheDecider.Decide(command, state, clock.GetCurrentInstant()), ct);
    }
}
