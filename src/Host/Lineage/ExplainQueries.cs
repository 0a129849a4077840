using ComputeLedger.Host.Commitments.Reading;
using ComputeLedger.Host.Infrastructure;
using ComputeLedger.Ledger.Commitments;
using ComputeLedger.Ledger.Usage;
using ComputeLedger.Projections.Commitments;
using ComputeLedger.Projections.Usage;
using JasperFx.Events;
using Marten;
using Marten.Events;
using Wolverine.Http;

namespace ComputeLedger.Host.Lineage;

/// <summary>One event behind a figure: what it is, when it was true (valid) and when the ledger learnt it (known).</summary>
public sealed record Evidence(Guid EventId, long Sequence, string Type, string StreamId, object? ValidTime, Instant KnownTime, object Data);

public sealed record Explanation(string Figure, object? Value, IReadOnlyList<Evidence> Events);

/// <summary>
/// Lineage: the events behind one tranche's status, one chip-month's spend or one provider-month's revenue, on the same
/// asOf/knownAt axes as the figures themselves. Folding exactly these events gives the figure.
/// </summary>
public static class ExplainQueries
{
    [WolverineGet("/api/explain/tranches/{id}/{trancheId}", OperationId = "ExplainTranche")]
    [Tags("Lineage")]
    public static async Task<IResult> Tranche(string id, string trancheId, string? asOf, string? knownAt, IQuerySession session, CancellationToken ct)
    {
        var (axes, problem) = TimeAxes.Parse(asOf, knownAt);
        if (problem is not null)
        {
            return problem;
        }

        var events = (await Known(session, axes!, ct, CommitmentQueries.CommitmentEvents, q => q.Where(e => e.StreamKey == id))).ToList();
        var kept = events.Where(e => axes!.ValidThrough is not { } through || EligibilityReplay.ValidOn(e.Data) is not { } on || on <= through).ToList();
        var view = EligibilityReplay.Fold(kept.Select(e => e.Data), null);
        var tranche = view?.Tranches.FirstOrDefault(t => t.TrancheId == trancheId);
        if (view is null || tranche is null)
        {
            return Problems.NotFound(view is null ? $"No commitment '{id}' is recorded at these axes." : $"Commitment '{id}' has no tranche '{trancheId}'.");
        }

        var milestones = tranche.Milestones.Select(m => m.MilestoneId).ToHashSet(StringComparer.Ordinal);
        bool Concerns(object e) => e switch
        {
            CommitmentOffered or CommitmentSigned or CommitmentDeclined => true,
            MilestoneAchieved a => milestones.Contains(a.MilestoneId),
            MilestoneRevoked r => milestones.Contains(r.MilestoneId),
            TrancheReleased r => r.TrancheId == trancheId,
            _ => false,
        };

        return TypedResults.Ok(new Explanation($"tranche {id}/{trancheId} status", tranche.Status.ToString(),
            kept.Where(e => Concerns(e.Data)).Select(e => Describe(e, EligibilityReplay.ValidOn(e.Data))).ToList()));
    }

    [WolverineGet("/api/explain/spend/{provider}/{chip}/{month}", OperationId = "ExplainChipSpend")]
    [Tags("Lineage")]
    public static Task<IResult> Spend(string provider, string chip, string month, string? asOf, string? knownAt, IQuerySession session, CancellationToken ct) =>
        Usage(session, asOf, knownAt, month, ct, $"spend of {chip} at {provider} in {month}",
            d => d.Provider == provider && d.Chip == chip,
            views => views.Spend.GetValueOrDefault(ChipSpendKey(provider, chip, month))?.Spend);

    [WolverineGet("/api/explain/revenue/{provider}/{month}", OperationId = "ExplainProviderRevenue")]
    [Tags("Lineage")]
    public static Task<IResult> Revenue(string provider, string month, string? asOf, string? knownAt, IQuerySession session, CancellationToken ct) =>
        Usage(session, asOf, knownAt, month, ct, $"revenue of {provider} in {month}",
            d => d.Provider == provider,
            views => views.Revenue.GetValueOrDefault($"{provider}|{month}")?.Revenue);

    private static async Task<IResult> Usage(IQuerySession session, string? asOf, string? knownAt, string month, CancellationToken ct, string figure,
        Func<UsageBucket.Delta, bool> concerns, Func<UsageViews, Money?> value)
    {
        var (axes, problem) = TimeAxes.Parse(asOf, knownAt);
        if (problem is not null)
        {
            return problem;
        }

        if (!Months.TryParse(month, out _))
        {
            return Problems.Invalid("month", "month must be yyyy-MM between 2000-01 and 2100-12, e.g. 2025-07.");
        }

        var events = await Known(session, axes!, ct, RecordedEvents.Usage, q => q);
        // An event counts when one of its records (a batch holds many) falls in the figure within the valid-time cut;
        // its valid time is that of the earliest such record.
        var kept = events
            .Select(e => (Event: e, ValidTimes: UsageBucket.Deltas(e.Data, Instant.FromDateTimeOffset(e.Timestamp))
                .Where(d => concerns(d) && Months.Of(d.CountedAt) == month && (axes!.ValidBefore is not { } before || d.ValidAt < before))
                .Select(d => d.ValidAt).ToList()))
            .Where(k => k.ValidTimes.Count > 0)
            .ToList();
        var views = UsageReplay.Fold(kept.Select(k => k.Event.Data), axes!.ValidBefore);
        return TypedResults.Ok(new Explanation(figure, value(views), kept.Select(k => Describe(k.Event, k.ValidTimes.Min())).ToList()));
    }

    private static string ChipSpendKey(string provider, string chip, string month) => $"{provider}|{chip}|{month}";

    private static async Task<IReadOnlyList<IEvent>> Known(IQuerySession session, TimeAxes axes, CancellationToken ct, Type[] types,
        Func<IQueryable<IEvent>, IQueryable<IEvent>> filter)
    {
        return await filter(session.RecordedBefore(axes.KnownBefore, types)).OrderBy(e => e.Sequence).ToListAsync(ct);
    }

    private static Evidence Describe(IEvent e, object? validTime) =>
        new(e.Id, e.Sequence, e.EventTypeName, e.StreamKey ?? e.StreamId.ToString(), validTime, Instant.FromDateTimeOffset(e.Timestamp), e.Data);
}
