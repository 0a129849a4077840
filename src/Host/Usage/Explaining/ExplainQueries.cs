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

namespace ComputeLedger.Host.Usage.Explaining;

/// <summary>One event behind a figure: what it is, when it was true (valid) and when the ledger learnt it (known).</summary>
public sealed record Evidence(Guid EventId, long Sequence, string Type, string StreamId, object? ValidTime, Instant KnownTime, object Data);

public sealed record Explanation(string Figure, object? Value, IReadOnlyList<Evidence> Events);

/// <summary>
/// One signed contribution to a usage figure: a record (positive), a void (negative), or one half of a correction (the
/// old figures negated, then the new ones). Valid time is the record's window start (for a void or correction, that of
/// the record it changes); known time is when the event was recorded.
/// </summary>
public sealed record LineageRecord(Guid EventId, long Sequence, int Index, string UsageId, string Type, string Chip, string CommitmentId,
    Instant ValidTime, Instant KnownTime, decimal ChipHours, Money Amount)
{
    public static LineageRecord Of(LineageEntry e) => new(e.EventId, e.Sequence, e.Index, e.UsageId, e.Type, e.Delta.Chip, e.Delta.CommitmentId,
        e.Delta.ValidAt, e.Delta.KnownAt, e.Delta.ChipHours, e.Delta.Amount);
}

/// <summary>
/// A page of a usage figure's lineage: the figure (<c>value</c>) and how many entries (<c>recordCount</c>) and events
/// (<c>eventCount</c>) make it on these axes, then at most <c>limit</c> entries; <c>next</c> is the <c>after</c> of the following page.
/// </summary>
public sealed record LineagePage(string Figure, Money? Value, long RecordCount, long EventCount, IReadOnlyList<LineageRecord> Records, string? Next);

/// <summary>
/// Lineage: the events behind one tranche's status (folding exactly these gives it), and the signed entries behind one
/// chip-month's spend or one provider-month's revenue, paged (summing every page's amounts gives the figure), on the
/// same asOf/knownAt axes as the figures themselves.
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
    public static Task<IResult> Spend(string provider, string chip, string month, string? asOf, string? knownAt, string? limit, string? after,
        IQuerySession session, CancellationToken ct) =>
        Usage(session, new UsageFigure($"spend of {chip} at {provider} in {month}", provider, chip, month), asOf, knownAt, limit, after, ct);

    [WolverineGet("/api/explain/revenue/{provider}/{month}", OperationId = "ExplainProviderRevenue")]
    [Tags("Lineage")]
    public static Task<IResult> Revenue(string provider, string month, string? asOf, string? knownAt, string? limit, string? after,
        IQuerySession session, CancellationToken ct) =>
        Usage(session, new UsageFigure($"revenue of {provider} in {month}", provider, null, month), asOf, knownAt, limit, after, ct);

    /// <summary>
    /// One page of a usage figure's entries in log order (sequence, then index within the event), with the figure and
    /// its counts. The counts and sum come from the per-bucket counts (calendar-bounded), the boundary days of instant
    /// axes and the events the lineage projection has not folded yet; the page is a keyset read of at most limit + 1 rows.
    /// </summary>
    private static async Task<IResult> Usage(IQuerySession session, UsageFigure figure, string? asOf, string? knownAt, string? limit, string? after,
        CancellationToken ct)
    {
        var (axes, problem) = TimeAxes.Parse(asOf, knownAt);
        if (problem is not null)
        {
            return problem;
        }

        if (!Months.TryParse(figure.Month, out var month))
        {
            return Problems.Invalid("month", "month must be yyyy-MM between 2000-01 and 2100-12, e.g. 2025-07.");
        }

        if (!LineageCursor.TryParseLimit(limit, out var take))
        {
            return Problems.Invalid("limit", $"limit must be a whole number from 1 to {LineageCursor.MaxLimit} (default {LineageCursor.DefaultLimit}).");
        }

        LineageCursor? cursor = null;
        if (!string.IsNullOrWhiteSpace(after) && !LineageCursor.TryParse(after, out cursor))
        {
            return Problems.Invalid("after", "after must be the 'next' value of an earlier page of this lineage, unchanged.");
        }

        var monthIndex = Months.Index(month);
        var split = LineageTail.Split.Of(axes!);
        bool Concerns(LineageEntry e) =>
            e.Delta.Provider == figure.Provider && (figure.Chip is null || e.Delta.Chip == figure.Chip) && Months.IndexOf(e.Delta.CountedAt) == monthIndex;

        await using var reader = await LineageReader.Open(session, ct);
        var tail = (await LineageTail.After(session, reader.Mark, null, axes!.KnownBefore, ct)).Where(e => Concerns(e) && split.Within(e)).ToList();
        var upTo = cursor?.UpTo ?? Math.Max(reader.Mark, tail.Count > 0 ? tail[^1].Sequence : 0);

        var whole = UnitBound.Of(split.WholeDays.ValidBefore);
        var wholeKnown = UnitBound.Of(split.WholeDays.KnownBefore);
        var counts = await reader.Counts(figure.Chip is null ? UsageLineageSlices.ProviderMonth : UsageLineageSlices.ChipMonth, figure.Provider,
            figure.Chip ?? "", monthIndex, whole, wholeKnown, ct);
        var eventMark = figure.Chip is null ? LineageEntry.FirstOfProviderMonth : LineageEntry.FirstOfChipMonth;
        if (split.HasBoundary)
        {
            counts = counts.Plus(await reader.BoundaryCounts(figure.Provider, figure.Chip, monthIndex, split.Days, ct));
        }

        counts = counts.Plus(LineageCounts.Of(tail, eventMark));

        var (afterSeq, afterIdx) = cursor is { } c ? (c.Sequence, c.Index) : (0L, -1);
        var page = await reader.Page(figure.Provider, figure.Chip, monthIndex, afterSeq, afterIdx, upTo, split.Days.ValidBefore, split.Days.KnownBefore, take + 1, ct);
        page.AddRange(tail.Where(e => e.Sequence <= upTo && (e.Sequence > afterSeq || (e.Sequence == afterSeq && e.Index > afterIdx)))
            .Take(take + 1 - page.Count));
        var next = page.Count > take ? new LineageCursor(upTo, page[take - 1].Sequence, page[take - 1].Index).ToString() : null;

        return TypedResults.Ok(new LineagePage(figure.Description, counts.Currency is { } currency ? new Money(counts.Amount, currency) : null,
            counts.Entries, counts.Events, page.Take(take).Select(LineageRecord.Of).ToList(), next));
    }

    private sealed record UsageFigure(string Description, string Provider, string? Chip, string Month);

    private static async Task<IReadOnlyList<IEvent>> Known(IQuerySession session, TimeAxes axes, CancellationToken ct, Type[] types,
        Func<IQueryable<IEvent>, IQueryable<IEvent>> filter)
    {
        return await filter(session.RecordedBefore(axes.KnownBefore, types)).OrderBy(e => e.Sequence).ToListAsync(ct);
    }

    private static Evidence Describe(IEvent e, object? validTime) =>
        new(e.Id, e.Sequence, e.EventTypeName, e.StreamKey ?? e.StreamId.ToString(), validTime, Instant.FromDateTimeOffset(e.Timestamp), e.Data);
}
