using ComputeLedger.Host.Infrastructure;
using ComputeLedger.Host.Usage.Reading;
using ComputeLedger.Ledger.Usage;
using ComputeLedger.Projections.Usage;
using JasperFx.Events;
using Marten;
using Marten.Events;
using Wolverine.Http;

namespace ComputeLedger.Host.Usage.Explaining;

/// <summary>
/// A figure for a period that had already begun at <c>knownFrom</c> and changed by <c>knownTo</c>, in <c>Currency</c>
/// (that of both amounts), so a restatement can be summed or filtered without opening them.
/// </summary>
public sealed record Restatement(
    string Figure, string Month, string? Provider, string? Chip, string? CommitmentId, string Currency, Money Old, Money New, long EventCount,
    IReadOnlyList<Guid> EventIds);

public sealed record RestatementsResponse(Instant KnownFrom, Instant KnownTo, IReadOnlyList<Restatement> Restatements);

/// <summary>
/// What the ledger reported about past months at one known time versus another: late usage, voids and corrections
/// recorded in between restate chip spend, provider revenue and commitment drawdown. Each entry counts the events that
/// changed it and names the first 100 (in log order); the full list is the figure's lineage. The cost is the events
/// recorded in the window plus calendar-bounded bucket reads, not the history.
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

        // What changed: the lineage entries recorded in [from, to), grouped per figure month in PostgreSQL (the window's
        // rows only), then the same for the events the lineage projection has not folded yet. What it was: the views at
        // knownFrom, read from the buckets (calendar-bounded; an instant adds its day).
        var pastMonth = Months.IndexOf(fromBound.Minus(Duration.Epsilon));
        List<LineageChange> changes;
        List<LineageEntry> tail;
        await using (var reader = await LineageReader.Open(session, ct))
        {
            changes = await reader.Changes(UsageLineage.Nanos(fromBound), UsageLineage.Nanos(toBound), pastMonth, ct);
            tail = await LineageTail.After(session, reader.Mark, fromBound, toBound, ct);
        }

        var merged = changes.ToDictionary(Key);
        foreach (var later in LineageChange.Of(tail, pastMonth))
        {
            merged[Key(later)] = merged.TryGetValue(Key(later), out var earlier) ? earlier.Then(later) : later;
        }

        var changed = merged.Values.Where(c => c.Amount != 0m).ToList();
        var before = changed.Count == 0 ? null : await UsageHistory.Views(session, new TimeAxes(null, fromBound), ct);
        var restatements = new List<Restatement>();
        foreach (var c in changed)
        {
            var month = Months.Format(new YearMonth(c.MonthIndex / 12, (c.MonthIndex % 12) + 1));
            var old = c.Figure switch
            {
                "chipSpend" => before!.Spend.GetValueOrDefault($"{c.Provider}|{c.Chip}|{month}")?.Spend,
                "providerRevenue" => before!.Revenue.GetValueOrDefault($"{c.Provider}|{month}")?.Revenue,
                _ => before!.Drawdowns.GetValueOrDefault(c.CommitmentId!)?.ByMonth.GetValueOrDefault(month),
            } ?? Money.Zero(c.Currency);
            restatements.Add(new Restatement(c.Figure, month, c.Provider, c.Chip, c.CommitmentId, c.Currency, old,
                old.Plus(new Money(c.Amount, c.Currency)), c.EventCount, c.EventIds));
        }

        return TypedResults.Ok(new RestatementsResponse(fromBound.Minus(Duration.Epsilon), toBound.Minus(Duration.Epsilon),
            restatements.OrderBy(r => r.Month, StringComparer.Ordinal).ThenBy(r => r.Figure, StringComparer.Ordinal)
                .ThenBy(r => r.Provider, StringComparer.Ordinal).ThenBy(r => r.Chip ?? r.CommitmentId, StringComparer.Ordinal).ToList()));
    }

    private static (string, string, string?, string?, int, string) Key(LineageChange c) => (c.Figure, c.Provider, c.Chip, c.CommitmentId, c.MonthIndex, c.Currency);

}
