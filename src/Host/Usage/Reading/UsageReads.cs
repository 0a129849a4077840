using ComputeLedger.Host.Commitments.Reading;
using ComputeLedger.Host.Infrastructure;
using ComputeLedger.Ledger.Commitments;
using ComputeLedger.Projections.Commitments;
using ComputeLedger.Projections.Usage;
using Marten;

namespace ComputeLedger.Host.Usage.Reading;

/// <summary>The month range and time axes a usage view is asked for, checked the same way for HTTP and the CLI.</summary>
public sealed record MonthsQuestion(MonthRange Range, TimeAxes Axes)
{
    /// <summary>The question, or null with what is wrong added to <paramref name="errors"/>; a bad range is reported alone.</summary>
    public static MonthsQuestion? Parse(string? from, string? to, string? asOf, string? knownAt, List<(string Field, string Message)> errors)
    {
        if (MonthRange.Parse(from, to) is not { } range)
        {
            errors.Add(MonthRange.Error(from));
            return null;
        }

        return TimeAxes.Parse(asOf, knownAt, errors) is { } axes ? new MonthsQuestion(range, axes) : null;
    }
}

/// <summary>
/// The usage views as data: what the endpoints answer and the CLI prints. "Now" reads the async read models; other axes
/// read <see cref="UsageHistory"/>. <c>now</c> is the clock's reading, used for the projection lag and for projecting.
/// </summary>
public static class UsageReads
{
    public static async Task<SpendResponse> Spend(MonthsQuestion question, string? provider, string? chip, IQuerySession session, Instant now,
        ReplayProgress? progress, CancellationToken ct)
    {
        var (range, axes) = (question.Range, question.Axes);
        IEnumerable<ChipSpend> found;
        if (axes.IsNow)
        {
            var (low, high) = (range.FromIndex, range.ToIndex);
            var query = session.Query<ChipSpend>().Where(r => r.MonthIndex >= low && r.MonthIndex <= high);
            if (!string.IsNullOrEmpty(provider))
            {
                query = query.Where(r => r.Provider == provider);
            }

            if (!string.IsNullOrEmpty(chip))
            {
                query = query.Where(r => r.Chip == chip);
            }

            found = await query.ToListAsync(ct);
        }
        else
        {
            found = (await UsageHistory.Views(session, axes, ct, progress)).Spend.Values.Where(r => r.MonthIndex >= range.FromIndex && r.MonthIndex <= range.ToIndex
                && (string.IsNullOrEmpty(provider) || r.Provider == provider) && (string.IsNullOrEmpty(chip) || r.Chip == chip));
        }

        var rows = found
            .OrderBy(r => r.Month, StringComparer.Ordinal).ThenBy(r => r.Provider, StringComparer.Ordinal).ThenBy(r => r.Chip, StringComparer.Ordinal)
            .Select(r => new SpendRow(r.Chip, r.Provider, r.Month, r.ChipHours, r.Spend, r.Tokens, r.CostPer1MTokens, r.Records))
            .ToList();
        return new SpendResponse(rows, await ProjectionLag.Of(session, "ChipSpend", now, null, ct));
    }

    public static async Task<RevenueResponse> Revenue(MonthsQuestion question, string? provider, IQuerySession session, Instant now,
        ReplayProgress? progress, CancellationToken ct)
    {
        var (range, axes) = (question.Range, question.Axes);
        var views = await UsageHistory.Views(session, axes, ct, progress);
        var revenue = views.Revenue.Values
            .Where(r => r.MonthIndex >= range.FromIndex && r.MonthIndex <= range.ToIndex)
            .Where(r => string.IsNullOrEmpty(provider) || r.Provider == provider)
            .ToDictionary(r => (r.Provider, r.Month));
        var signed = (await CommitmentQueries.All(session, axes, ct))
            .Where(c => c.Status == CommitmentStatus.Signed && c.ComputeCommitment is not null)
            .Where(c => string.IsNullOrEmpty(provider) || c.Provider == provider)
            .ToList();

        // Months listed: those with revenue, and, when the range is explicit, every month a commitment was active in it.
        var keys = revenue.Keys.ToHashSet();
        if (range.Explicit)
        {
            foreach (var c in signed)
            {
                foreach (var month in range.Each().Where(m => Outlook.IsActive(c, m)))
                {
                    keys.Add((c.Provider, Months.Format(month)));
                }
            }
        }

        var rows = keys.OrderBy(k => k.Month, StringComparer.Ordinal).ThenBy(k => k.Provider, StringComparer.Ordinal).Select(k =>
        {
            var month = Months.Parse(k.Month);
            var active = signed.Where(c => c.Provider == k.Provider && Outlook.IsActive(c, month)).ToList();
            var currency = revenue.TryGetValue(k, out var r) ? r.Revenue.Currency : active.FirstOrDefault()?.ComputeCommitment!.CommittedSpend.Currency ?? "USD";
            var backlog = Outlook.Backlog(active, views.Drawdowns, k.Month, currency);
            return new RevenueRow(k.Provider, k.Month, r?.Revenue ?? Money.Zero(currency), backlog, active.Count, r?.Records ?? 0);
        }).ToList();

        return new RevenueResponse(rows, await ProjectionLag.Of(session, "ProviderRevenue", now, null, ct));
    }

    /// <summary>A commitment's drawdown, or why there is none (the reason is a not-found answer).</summary>
    public static async Task<(DrawdownResponse? Drawdown, string? Missing)> Drawdown(string id, TimeAxes axes, IQuerySession session, Instant now,
        ReplayProgress? progress, CancellationToken ct)
    {
        var commitment = (await CommitmentQueries.All(session, axes, ct)).FirstOrDefault(c => c.CommitmentId == id);
        if (commitment is null)
        {
            return (null, axes.KnownBefore is not null && await session.LoadAsync<TrancheEligibility>(id, ct) is not null
                ? $"Commitment '{id}' was not yet recorded at knownAt."
                : $"No commitment '{id}' is recorded.");
        }

        if (commitment.ComputeCommitment is not { } compute)
        {
            return (null, $"Commitment '{id}' has no compute commitment to draw down.");
        }

        var d = axes.IsNow
            ? await session.LoadAsync<Projections.Usage.Drawdown>(id, ct)
            : (await UsageHistory.Views(session, axes, ct, progress)).Drawdowns.GetValueOrDefault(id);
        // Projected from the axes' point in time: "as of V" projects with what had been consumed by V. The lag is the
        // read model's, measured against the clock whatever the axes.
        var projectedAt = axes.ValidBefore is { } validBefore ? Instant.Min(now, validBefore) : now;
        var consumed = d?.Consumed ?? Money.Zero(compute.CommittedSpend.Currency);
        var projected = Outlook.Projected(compute, consumed, projectedAt);
        var lag = await ProjectionLag.Of(session, "Drawdown", now, null, ct);
        return (new DrawdownResponse(
            id, commitment.Provider, compute.CommittedSpend, consumed, compute.CommittedSpend.Minus(consumed),
            (d?.ByChip ?? []).OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => new ChipConsumption(c.Key, c.Value.ChipHours, c.Value.Consumed)).ToList(),
            (d?.ByMonth ?? []).OrderBy(m => m.Key, StringComparer.Ordinal).Select(m => new MonthConsumption(m.Key, m.Value)).ToList(),
            projected, Outlook.Shortfall(compute, projected), compute.TermStart, compute.TermEnd, d?.Records ?? 0, lag), null);
    }
}
