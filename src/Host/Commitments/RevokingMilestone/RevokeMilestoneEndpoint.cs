using System.Security.Claims;
using ComputeLedger.Host.Infrastructure;
using ComputeLedger.Ledger.Commitments.RevokingMilestone;
using Marten;
using Wolverine;
using Wolverine.Http;

namespace ComputeLedger.Host.Commitments.RevokingMilestone;

public sealed record RevokeMilestoneRequest(string? Reason, long? ExpectedVersion);

public static class RevokeMilestoneEndpoint
{
    [WolverinePost("/api/commitments/{id}/milestones/{milestoneId}/revoke", OperationId = "RevokeMilestone")]
    [Tags("Commitments")]
    public static Task<IResult> Post(string id, string milestoneId, RevokeMilestoneRequest? request, IDocumentSession session, IMessageBus bus, IClock clock,
        ClaimsPrincipal user, HttpRequest http, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(request?.Reason))
        {
            return Task.FromResult<IResult>(Problems.Invalid("reason", "reason is required: say why the attestation was made in error."));
        }

        var errors = new List<(string, string)>();
        if (Fields.Text(request.Reason, "reason", errors) is not { } reason)
        {
            return Task.FromResult<IResult>(Problems.Invalid(errors));
        }

        var command = new RevokeMilestone(id, milestoneId, reason, Caller.From(user).Name);
        return CommitmentStream.Decide(session, bus, id, CommitmentStream.ExpectedVersion(request.ExpectedVersion, http),
            state => RevokeMilestoneDecider.Decide(command, state, clock.GetCurrentInstant()), ct);
    }
}
