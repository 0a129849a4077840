using ComputeLedger.Host.Commitments.Reading;
using ComputeLedger.Host.Infrastructure;
using ComputeLedger.Ledger.Commitments;
using ComputeLedger.Projections.Commitments;
using ComputeLedger.Projections.Usage;
using Marten;
using Wolverine.Http;

namespace ComputeLedger.Host.Usage.Reading;

public sealed record SpendRow(string Chip, string Provider, string Month, decimal ChipHours, Money Spend, decimal Tokens, decimal? CostPer1MTokens, long Records);

public sealed record SpendResponse(IReadOnlyList<SpendRow> Rows, ProjectionLag Lag);

public sealed record RevenueRow(string Provider, string Month, Money Revenue, Money Backlog, int ActiveCommitments, long Records);

public sealed record RevenueResponse(IReadOnlyList<RevenueRow> Rows, ProjectionLag Lag);

public sealed record ChipConsumption(string Chip, decimal ChipHours, Money Consumed);

public sealed record MonthConsumption(string Month, Money Consumed);

public sealed record DrawdownResponse(
    string CommitmentId, string Provider, Money Committed, Money Consumed, Money Remaining,
    IReadOnlyList<ChipConsumption> ByChip, IReadOnlyList<MonthConsumption> ByMonth,
    Money ProjectedConsumption, Money ProjectedShortfall, LocalDate? TermStart, LocalDate? TermEnd, long Records, ProjectionLag Lag);

public static class UsageQueries
{
    [WolverineGet("/api/spend/chips", OperationId = "GetChipSpend")]
    [Tags("Usage")]
    public static async Task<IResult> Spend(string? from, string? to, string? provider, string? chip, string? asOf, string? knownAt,
        IQuerySession session, IClock clock, HttpResponse response, ReplayProgress progress, CancellationToken ct)
    {
        if (MonthRange.Parse(from, to) is not { } range)
        {
            return MonthRange.Invalid(from, to);
        }

        var (axes, problem) = TimeAxes.Parse(asOf, knownAt);
        if (problem is not null)
        {
            return problem;
        }

        IEnumerable<ChipSpend> found;
        if (axes!.IsNow)
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
        var lag = await ProjectionLag.Of(session, "ChipSpend", clock.GetCurrentInstant(), response, ct);
        return TypedResults.Ok(new SpendResponse(rows, lag));
    }

    [WolverineGet("/api/revenue/providers", OperationId = "GetProviderRevenue")]
    [Tags("Usage")]
    public static async Task<IResult> Revenue(string? from, string? to, string? provider, string? asOf, string? knownAt,
        IQuerySession session, IClock clock, HttpResponse response, ReplayProgress progress, CancellationToken ct)
    {
        if (MonthRange.Parse(from, to) is not { } range)
        {
            return MonthRange.Invalid(from, to);
        }

        var (axes, problem) = TimeAxes.Parse(asOf, knownAt);
        if (problem is not null)
        {
            return problem;
        }

        var views = await UsageHistory.Views(session, axes!, ct, progress);
        var revenue = views.Revenue.Values
            .Where(r => r.MonthIndex >= range.FromIndex && r.MonthIndex <= range.ToIndex)
            .Where(r => string.IsNullOrEmpty(provider) || r.Provider == provider)
            .ToDictionary(r => (r.Provider, r.Month));
        var signed = (await CommitmentQueries.All(session, axes!, ct))
            .Where(c => c.Status == CommitmentStatus.Signed && c.ComputeCommitment is not null)
            .Where(c => string.IsNullOrEmpty(provider) || c.Provider == provider)
            .ToList();
        var drawdowns = views.Drawdowns;

        // Months listed: those with revenue, and, when the range is explicit, every month a commitment was active in it.
        var keys = revenue.Keys.ToHashSet();
        if (range.Explicit)
        {
            foreach (var c in signed)
            {
                foreach (var month in range.Each().Where(m => IsActive(c, m)))
                {
                    keys.Add((c.Provider, Months.Format(month)));
                }
            }
        }

        var rows = keys.OrderBy(k => k.Month, StringComparer.Ordinal).ThenBy(k => k.Provider, StringComparer.Ordinal).Select(k =>
        {
            var month = Months.Parse(k.Month);
            var active = signed.Where(c => c.Provider == k.Provider && IsActive(c, month)).ToList();
            var currency = revenue.TryGetValue(k, out var r) ? r.Revenue.Currency : active.FirstOrDefault()?.ComputeCommitment!.CommittedSpend.Currency ?? "USD";
            var backlog = active.Aggregate(Money.Zero(currency), (sum, c) =>
            {
                var consumedThrough = drawdowns.TryGetValue(c.CommitmentId, out var d)
                    ? d.ByMonth.Where(m => string.CompareOrdinal(m.Key, k.Month) <= 0).Sum(m => m.Value.Amount)
                    : 0m;
                return sum with { Amount = sum.Amount + Math.Max(0m, c.ComputeCommitment!.CommittedSpend.Amount - consumedThrough) };
            });
            return new RevenueRow(k.Provider, k.Month, r?.Revenue ?? Money.Zero(currency), backlog, active.Count, r?.Records ?? 0);
        }).ToList();

        var lag = await ProjectionLag.Of(session, "ProviderRevenue", clock.GetCurrentInstant(), response, ct);
        return TypedResults.Ok(new RevenueResponse(rows, lag));
    }

    [WolverineGet("/api/commitments/{id}/drawdown", OperationId = "GetDrawdown")]
    [Tags("Usage")]
    public static async Task<IResult> Drawdown(string id, string? asOf, string? knownAt, IQuerySession session, IClock clock,
        HttpResponse response, ReplayProgress progress, CancellationToken ct)
    {
        var (axes, problem) = TimeAxes.Parse(asOf, knownAt);
        if (problem is not null)
        {
            return problem;
        }

        var commitment = (await CommitmentQueries.All(session, axes!, ct)).FirstOrDefault(c => c.CommitmentId == id);
        if (commitment is null)
        {
            return axes!.KnownBefore is not null && await session.LoadAsync<TrancheEligibility>(id, ct) is not null
                ? Problems.NotFound($"Commitment '{id}' was not yet recorded at knownAt.")
                : Problems.NotFound($"No commitment '{id}' is recorded.");
        }

        if (commitment.ComputeCommitment is not { } compute)
        {
            return Problems.NotFound($"Commitment '{id}' has no compute commitment to draw down.");
        }

        var now = clock.GetCurrentInstant();
        var d = axes!.IsNow
            ? await session.LoadAsync<Projections.Usage.Drawdown>(id, ct)
            : (await UsageHistory.Views(session, axes, ct, progress)).Drawdowns.GetValueOrDefault(id);
        // Projected from the axes' point in time: "as of V" projects with what had been consumed by V.
        now = axes.ValidBefore is { } validBefore ? Instant.Min(now, validBefore) : now;
        var currency = compute.CommittedSpend.Currency;
        var consumed = d?.Consumed ?? Money.Zero(currency);
        var projected = Project(compute, consumed, now);
        var lag = await ProjectionLag.Of(session, "Drawdown", now, response, ct);
        return TypedResults.Ok(new DrawdownResponse(
            id, commitment.Provider, compute.CommittedSpend, consumed, compute.CommittedSpend.Minus(consumed),
            (d?.ByChip ?? []).OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => new ChipConsumption(c.Key, c.Value.ChipHours, c.Value.Consumed)).ToList(),
            (d?.ByMonth ?? []).OrderBy(m => m.Key, StringComparer.Ordinal).Select(m => new MonthConsumption(m.Key, m.Value)).ToList(),
            projected, projected.Amount >= compute.CommittedSpend.Amount ? Money.Zero(currency) : compute.CommittedSpend.Minus(projected),
            compute.TermStart, compute.TermEnd, d?.Records ?? 0, lag));
    }

    /// <summary>
    /// Straight-line projection: consumption so far, spread over the elapsed part of the term, extended to the whole term.
    /// Before the term starts nothing can be projected, so the projection is what was consumed. Divided before multiplied,
    /// so only a projection itself beyond a decimal's range could overflow (a tick into the term, say); such a figure is
    /// reported as the largest amount a decimal holds, not as a failed read.
    /// </summary>
    public static Money Project(Ledger.Commitments.ComputeCommitment compute, Money consumed, Instant now)
    {
        var start = compute.TermStart.AtStartOfDayInZone(DateTimeZone.Utc).ToInstant();
        var end = compute.TermEnd.AtStartOfDayInZone(DateTimeZone.Utc).ToInstant();
        var elapsed = (Instant.Min(now, end) - start).BclCompatibleTicks;
        var term = (end - start).BclCompatibleTicks;
        if (elapsed <= 0 || term <= 0)
        {
            return consumed;
        }

        var perTick = consumed.Amount / elapsed;
        return Math.Abs(perTick) < (decimal.MaxValue / term) - 1
            ? (consumed with { Amount = perTick * term }).ToCents()
            : consumed with { Amount = perTick < 0 ? decimal.MinValue : decimal.MaxValue };
    }

    /// <summary>Active in a month: signed by its last day, and the term overlaps it. A term may start before the signing.</summary>
    public static bool IsActive(TrancheEligibility commitment, YearMonth month)
    {
        var last = month.OnDayOfMonth(month.Calendar.GetDaysInMonth(month.Year, month.Month));
        return commitment is { SignedOn: { } signed, ComputeCommitment: { } compute }
            && signed <= last && compute.TermStart <= last && compute.TermEnd >= month.OnDayOfMonth(1);
    }
}

/// <summary>An inclusive range of yyyy-MM months; either end may be open.</summary>
public sealed record MonthRange(string From, string To, bool Explicit)
{
    private static readonly YearMonth Earliest = new(2000, 1);
    private static readonly YearMonth Latest = new(2100, 12);

    public static MonthRange? Parse(string? from, string? to)
    {
        var f = Earliest;
        var t = Latest;
        if ((!string.IsNullOrEmpty(from) && !Months.TryParse(from, out f)) || (!string.IsNullOrEmpty(to) && !Months.TryParse(to, out t)) || f > t)
        {
            return null;
        }

        return new MonthRange(Months.Format(f), Months.Format(t), !string.IsNullOrEmpty(from) && !string.IsNullOrEmpty(to));
    }

    public int FromIndex => Projections.Usage.Months.Index(Projections.Usage.Months.Parse(From));

    public int ToIndex => Projections.Usage.Months.Index(Projections.Usage.Months.Parse(To));

    public IEnumerable<YearMonth> Each()
    {
        var last = Projections.Usage.Months.Parse(To);
        for (var m = Projections.Usage.Months.Parse(From); m <= last; m = m.PlusMonths(1))
        {
            yield return m;
        }
    }

    public static IResult Invalid(string? from, string? to) => Problems.Invalid(
        [(string.IsNullOrEmpty(from) || Projections.Usage.Months.TryParse(from, out _) ? "to" : "from",
            "from and to are months written yyyy-MM between 2000-01 and 2100-12 (e.g. 2025-01), with from <= to.")]);
}
