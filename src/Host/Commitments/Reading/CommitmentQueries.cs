using ComputeLedger.Host.Infrastructure;
using ComputeLedger.Projections.Commitments;
using Marten;
using Microsoft.AspNetCore.Http.HttpResults;
using Wolverine.Http;

namespace ComputeLedger.Host.Commitments.Reading;

public static class CommitmentQueries
{
    [WolverineGet("/api/commitments", OperationId = "ListCommitments")]
    [Tags("Commitments")]
    public static async Task<IReadOnlyList<CommitmentSummary>> List(IQuerySession session, CancellationToken ct)
    {
        var views = await session.Query<TrancheEligibility>().OrderBy(v => v.CommitmentId).ToListAsync(ct);
        return views.Select(CommitmentSummary.From).ToList();
    }

    [WolverineGet("/api/commitments/{id}/eligibility", OperationId = "GetEligibility")]
    [Tags("Commitments")]
    public static async Task<Results<Ok<EligibilityResponse>, ProblemHttpResult>> Eligibility(
        string id, IQuerySession session, HttpResponse response, CancellationToken ct)
    {
        var view = await session.LoadAsync<TrancheEligibility>(id, ct);
        if (view is null)
        {
            return Problems.NotFound($"No commitment '{id}' is recorded.");
        }

        response.Headers.ETag = $"\"{view.Version}\"";
        return TypedResults.Ok(EligibilityResponse.From(view));
    }
}
