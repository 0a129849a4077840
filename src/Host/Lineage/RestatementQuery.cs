using ComputeLedger.Host.Infrastructure;
using ComputeLedger.Ledger.Usage;
using ComputeLedger.Projections.Usage;
using JasperFx.Events;
using Marten;
using Marten.Events;
using Wolverine.Http;

namespace ComputeLedger.Host.Lineage;

/// <summary>
/// A figure for a period that had already begun at <c>knownFrom</c> and changed by <c>knownTo</c>, in <c>Currency</c>
/// (that of both amounts), so a restatement can be summed or filtered without opening them.
/// </summary>
public sealed record Restatement(
    string Figure, string Month, string? Provider, string? Chip, string? CommitmentId, string Currency, Money Old, Money New, IReadOnlyList<Guid> EventIds);

public sealed record RestatementsResponse(Instant KnownFrom, Instant KnownTo, IReadOnlyList<Restatement> Restatements);

/// <summary>
/// What the ledger reported about past months at one known time versus another: late usage, voids and corrections
/// recorded in between restate chip spend, provider revenue and commitment drawdown. Each entry names the events.
/// </summary>
public static class RestatementQuery
{
    [WolverineGet("/api/restatements", OperationId = "ListRestatements")]
    [Tags("Lineage")]
    public static async Task<IResult> Get(string? knownFrom, string? knownTo, IQuerySession session, IClock clock, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(knownFrom))
        {
            return Problems.Invalid("knownFrom", "knownFrom is required: the date or instant of the earlier report.");
        }

        var (from, problemFrom) = TimeAxes.ParseOne(knownFrom, "knownFrom");
        var (to, problemTo) = TimeAxes.ParseOne(knownTo, "knownTo");
        if ((problemFrom ?? problemTo) is { } problem)
        {
            return problem;
        }

        var fromBound = from!.Value;
        var toBound = to ?? clock.GetCurrentInstant().Plus(Duration.Epsilon);
        if (toBound < fromBound)
        {
            return Problems.Invalid("knownTo", "knownTo must not be before knownFrom.");
        }

        var events = await session.RecordedBefore(toBound, RecordedEvents.Usage)
            .OrderBy(e => e.Sequence)
            .ToListAsync(ct);
        var earlier = events.Where(e => Instant.FromDateTimeOffset(e.Timestamp) < fromBound).ToList();
        var between = events.Skip(earlier.Count).ToList();
        var before = UsageReplay.Fold(earlier.Select(e => e.Data), null);
        var after = UsageReplay.Fold(events.Select(e => e.Data), null);
        var pastMonth = Months.IndexOf(fromBound.Minus(Duration.Epsilon));

        var restatements = new List<Restatement>();
        foreach (var key in before.Spend.Keys.Union(after.Spend.Keys))
        {
            var (o, n) = (before.Spend.GetValueOrDefault(key), after.Spend.GetValueOrDefault(key));
            var row = n ?? o!;
            if (row.MonthIndex <= pastMonth && Changed(o?.Spend, n?.Spend, out var oldAmount, out var newAmount))
            {
                restatements.Add(new Restatement("chipSpend", row.Month, row.Provider, row.Chip, null, oldAmount.Currency, oldAmount, newAmount,
                    Causes(between, e => e.Provider == row.Provider && e.Chip == row.Chip, row.Month)));
            }
        }

        foreach (var key in before.Revenue.Keys.Union(after.Revenue.Keys))
        {
            var (o, n) = (before.Revenue.GetValueOrDefault(key), after.Revenue.GetValueOrDefault(key));
            var row = n ?? o!;
            if (row.MonthIndex <= pastMonth && Changed(o?.Revenue, n?.Revenue, out var oldAmount, out var newAmount))
            {
                restatements.Add(new Restatement("providerRevenue", row.Month, row.Provider, null, null, oldAmount.Currency, oldAmount, newAmount,
                    Causes(between, e => e.Provider == row.Provider, row.Month)));
            }
        }

        foreach (var commitment in before.Drawdowns.Keys.Union(after.Drawdowns.Keys))
        {
            var (o, n) = (before.Drawdowns.GetValueOrDefault(commitment), after.Drawdowns.GetValueOrDefault(commitment));
            foreach (var month in (o?.ByMonth.Keys ?? Enumerable.Empty<string>()).Union(n?.ByMonth.Keys ?? Enumerable.Empty<string>()).Where(m => Months.Index(Months.Parse(m)) <= pastMonth))
            {
                if (Changed(o?.ByMonth.GetValueOrDefault(month), n?.ByMonth.GetValueOrDefault(month), out var oldAmount, out var newAmount))
                {
                    restatements.Add(new Restatement("commitmentDrawdown", month, n?.Provider ?? o?.Provider, null, commitment, oldAmount.Currency, oldAmount, newAmount,
                        Causes(between, e => e.CommitmentId == commitment, month)));
                }
            }
        }

        return TypedResults.Ok(new RestatementsResponse(fromBound.Minus(Duration.Epsilon), toBound.Minus(Duration.Epsilon),
            restatements.OrderBy(r => r.Month, StringComparer.Ordinal).ThenBy(r => r.Figure, StringComparer.Ordinal)
                .ThenBy(r => r.Provider, StringComparer.Ordinal).ThenBy(r => r.Chip ?? r.CommitmentId, StringComparer.Ordinal).ToList()));
    }

    private static bool Changed(Money? before, Money? after, out Money oldAmount, out Money newAmount)
    {
        var currency = (after ?? before)!.Value.Currency;
        oldAmount = before ?? Money.Zero(currency);
        newAmount = after ?? Money.Zero(currency);
        return oldAmount.Amount != newAmount.Amount;
    }

    /// <summary>The events recorded in between that moved this figure's month: the same deltas the buckets are made of.</summary>
    private static IReadOnlyList<Guid> Causes(IEnumerable<IEvent> between, Func<UsageBucket.Delta, bool> concerns, string month) =>
        between.Where(e => UsageBucket.Deltas(e.Data, Instant.FromDateTimeOffset(e.Timestamp)).Any(d => concerns(d) && Months.Of(d.CountedAt) == month))
            .Select(e => e.Id).ToList();
}
