using System.Security.Claims;
using ComputeLedger.Host.Infrastructure;
using ComputeLedger.Ledger.Commitments.AchievingMilestone;
using Marten;
using Wolverine;
using Wolverine.Http;

namespace ComputeLedger.Host.Commitments.AchievingMilestone;

public sealed record AchieveMilestoneRequest(LocalDate? AchievedOn, string? Evidence, long? ExpectedVersion);

public static class AchieveMilestoneEndpoint
{
    [WolverinePost("/api/commitments/{id}/milestones/{milestoneId}/achieve", OperationId = "AchieveMilestone")]
    [Tags("Commitments")]
    public static Task<IResult> Post(string id, string milestoneId, AchieveMilestoneRequest? request, IDocumentSession session, IMessageBus bus, IClock clock,
        ClaimsPrincipal user, HttpRequest http, CancellationToken ct)
    {
        var errors = new List<(string, string)>();
        var achievedOn = Fields.Date(request?.AchievedOn, "achievedOn", errors, why: "the business date the milestone happened");
        if (string.IsNullOrWhiteSpace(request?.Evidence))
        {
            errors.Add(("evidence", "evidence is required: say what proves the milestone (a report, a link, a reference)."));
        }

        var evidence = Fields.Text(request?.Evidence, "evidence", errors);
        if (errors.Count > 0)
        {
            return Task.FromResult<IResult>(Problems.Invalid(errors));
        }

        var command = new AchieveMilestone(id, milestoneId, achievedOn!.Value, evidence!, Caller.From(user).Name);
        return CommitmentStream.Decide(session, bus, id, CommitmentStream.ExpectedVersion(request!.ExpectedVersion, http),
            state => AchieveMilestoneDecider.Decide(command, state, clock.GetCurrentInstant()), ct);
    }
}
