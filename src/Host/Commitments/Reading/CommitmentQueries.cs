using ComputeLedger.Host.Infrastructure;
using ComputeLedger.Ledger.Commitments;
using ComputeLedger.Projections.Commitments;
using JasperFx.Events;
using Marten;
using Marten.Events;
using Wolverine.Http;

namespace ComputeLedger.Host.Commitments.Reading;

/// <summary>
/// Eligibility reads. Without asOf/knownAt they serve the inline read model; with either, they replay the commitment
/// streams on both axes (commitment streams hold no usage, so the replay stays small).
/// </summary>
public static class CommitmentQueries
{
    [WolverineGet("/api/commitments", OperationId = "ListCommitments")]
    [Tags("Commitments")]
    public static async Task<IResult> List(string? asOf, string? knownAt, IQuerySession session, CancellationToken ct)
    {
        var (axes, problem) = TimeAxes.Parse(asOf, knownAt);
        return problem ?? TypedResults.Ok(await Summaries(axes!, session, ct));
    }

    [WolverineGet("/api/commitments/{id}/eligibility", OperationId = "GetEligibility")]
    [Tags("Commitments")]
    public static async Task<IResult> Eligibility(string id, string? asOf, string? knownAt, IQuerySession session, HttpResponse response, CancellationToken ct)
    {
        var (axes, problem) = TimeAxes.Parse(asOf, knownAt);
        if (problem is not null)
        {
            return problem;
        }

        var (view, missing) = await EligibilityOf(id, axes!, session, ct);
        if (view is null)
        {
            return Problems.NotFound(missing!);
        }

        response.Headers.ETag = $"\"{view.Version}\"";
        return TypedResults.Ok(EligibilityResponse.From(view));
    }

    /// <summary>Every commitment's summary on the given axes, by id.</summary>
    public static async Task<IReadOnlyList<CommitmentSummary>> Summaries(TimeAxes axes, IQuerySession session, CancellationToken ct) =>
        (await All(session, axes, ct)).OrderBy(v => v.CommitmentId, StringComparer.Ordinal).Select(CommitmentSummary.From).ToList();

    /// <summary>One commitment's eligibility on the given axes, or why there is none (the reason is a not-found answer).</summary>
    public static async Task<(TrancheEligibility? View, string? Missing)> EligibilityOf(string id, TimeAxes axes, IQuerySession session, CancellationToken ct)
    {
        var view = axes.IsNow
            ? await session.LoadAsync<TrancheEligibility>(id, ct)
            : EligibilityReplay.Fold((await Recorded(session, axes, [id], ct)).Select(e => e.Data), axes.ValidThrough);
        if (view is not null)
        {
            return (view, null);
        }

        return (null, axes.KnownBefore is { } known && await session.LoadAsync<TrancheEligibility>(id, ct) is { } later
            ? $"Commitment '{id}' was not yet recorded at knownAt {known.Minus(Duration.Epsilon)}; it was first recorded at {later.RecordedAt}."
            : $"No commitment '{id}' is recorded.");
    }

    public static readonly Type[] CommitmentEvents =
    [
        typeof(CommitmentOffered), typeof(CommitmentSigned), typeof(CommitmentDeclined), typeof(MilestoneAchieved), typeof(TrancheReleased),
        typeof(MilestoneRevoked), typeof(MilestoneThresholdReverted), typeof(MilestoneMissed),
    ];

    /// <summary>Every commitment's eligibility on the given axes: the read model for "now", else a replay.</summary>
    public static async Task<IReadOnlyList<TrancheEligibility>> All(IQuerySession session, TimeAxes axes, CancellationToken ct)
    {
        if (axes.IsNow)
        {
            return await session.Query<TrancheEligibility>().ToListAsync(ct);
        }

        // Only the commitments' own streams are read (by stream id, an index), never the whole usage history.
        var ids = await session.Query<TrancheEligibility>().Select(v => v.CommitmentId).ToListAsync(ct);
        var events = await Recorded(session, axes, ids, ct);
        return events.GroupBy(e => e.StreamKey!)
            .Select(g => EligibilityReplay.Fold(g.Select(e => e.Data), axes.ValidThrough))
            .OfType<TrancheEligibility>()
            .ToList();
    }

    /// <summary>The commitment events recorded before the known-time cut-off, in the order they were appended.</summary>
    private static async Task<IReadOnlyList<IEvent>> Recorded(IQuerySession session, TimeAxes axes, IReadOnlyList<string> commitmentIds, CancellationToken ct)
    {
        var ids = commitmentIds.ToArray();
        var query = session.RecordedBefore(axes.KnownBefore, CommitmentEvents).Where(e => ids.Contains(e.StreamKey));

        return await query.OrderBy(e => e.Sequence).ToListAsync(ct);
    }
}
