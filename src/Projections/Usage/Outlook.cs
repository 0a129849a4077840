using ComputeLedger.Ledger.Commitments;
using ComputeLedger.Projections.Commitments;

namespace ComputeLedger.Projections.Usage;

/// <summary>
/// Read-side figures computed from the read models at a point in time, not folded from events: what a commitment is
/// projected to consume over its term, and what is still owed under the commitments active in a month.
/// </summary>
public static class Outlook
{
    /// <summary>
    /// Straight-line projection: consumption so far, spread over the elapsed part of the term, extended to the whole term.
    /// Before the term starts nothing can be projected, so the projection is what was consumed. Divided before multiplied,
    /// so only a projection itself beyond a decimal's range could overflow (a tick into the term, say); such a figure is
    /// reported as the largest amount a decimal holds, not as a failed read.
    /// </summary>
    public static Money Projected(ComputeCommitment compute, Money consumed, Instant now)
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

    /// <summary>What the projection falls short of the committed spend by; nothing once it reaches it.</summary>
    public static Money Shortfall(ComputeCommitment compute, Money projected) =>
        projected.Amount >= compute.CommittedSpend.Amount ? Money.Zero(compute.CommittedSpend.Currency) : compute.CommittedSpend.Minus(projected);

    /// <summary>Active in a month: signed by its last day, and the term overlaps it. A term may start before the signing.</summary>
    public static bool IsActive(TrancheEligibility commitment, YearMonth month)
    {
        var last = month.OnDayOfMonth(month.Calendar.GetDaysInMonth(month.Year, month.Month));
        return commitment is { SignedOn: { } signed, ComputeCommitment: { } compute }
            && signed <= last && compute.TermStart <= last && compute.TermEnd >= month.OnDayOfMonth(1);
    }

    /// <summary>
    /// Backlog at the end of <paramref name="month"/>: for each commitment active in it, its committed spend less what it
    /// had consumed through that month, never below zero, summed.
    /// </summary>
    public static Money Backlog(IEnumerable<TrancheEligibility> active, IReadOnlyDictionary<string, Drawdown> drawdowns, string month, string currency) =>
        active.Aggregate(Money.Zero(currency), (sum, c) =>
        {
            var consumedThrough = drawdowns.TryGetValue(c.CommitmentId, out var d)
                ? d.ByMonth.Where(m => string.CompareOrdinal(m.Key, month) <= 0).Sum(m => m.Value.Amount)
                : 0m;
            return sum with { Amount = sum.Amount + Math.Max(0m, c.ComputeCommitment!.CommittedSpend.Amount - consumedThrough) };
        });
}
