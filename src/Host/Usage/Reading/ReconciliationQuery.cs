using ComputeLedger.Host.Infrastructure;
using ComputeLedger.Projections.Usage;
using Marten;
using Wolverine.Http;

namespace ComputeLedger.Host.Usage.Reading;

public sealed record CurrencyReconciliation(
    string Currency, decimal ChipSpend, decimal ProviderRevenue, decimal AcceptedUsage,
    long ChipSpendRecords, long ProviderRevenueRecords, long AcceptedRecords, bool Balanced,
    decimal Drawdown, long DrawdownRecords, decimal? Buckets, long? BucketRecords);

public sealed record ReconciliationResponse(bool Balanced, IReadOnlyList<CurrencyReconciliation> Currencies, IReadOnlyList<ProjectionLag> Lag);

/// <summary>
/// Independent totals that must agree to the cent, per currency: the accepted usage (the amounts written next to each
/// accepted usage id), and every view made from it: chip spend, provider revenue, drawdown (Σ consumed over all
/// commitments) and the time-travel buckets, summed the way time-travel reads sum them. Records must agree too. A gap
/// while a projection lags is expected; the lag says so. Off "now", the views replayed at those axes are held against a
/// direct sum of the same events' amounts; the buckets are checked when both axes are whole days (the grain they keep).
/// </summary>
public static class ReconciliationQuery
{
    [WolverineGet("/api/reconciliation", OperationId = "GetReconciliation")]
    [Tags("Usage")]
    public static async Task<IResult> Get(string? asOf, string? knownAt, IQuerySession session, IClock clock, ReplayProgress progress, CancellationToken ct)
    {
        var (axes, problem) = TimeAxes.Parse(asOf, knownAt);
        if (problem is not null)
        {
            return problem;
        }

        var views = await UsageHistory.Views(session, axes!, ct, progress);
        var spend = ByCurrency(views.Spend.Values.Select(r => (r.Spend, r.Records)));
        var revenue = ByCurrency(views.Revenue.Values.Select(r => (r.Revenue, r.Records)));
        var drawdown = ByCurrency(views.Drawdowns.Values.Where(d => d.Consumed is not null).Select(d => (d.Consumed!.Value, d.Records)));
        var accepted = axes!.IsNow
            ? await UsageClaims.AcceptedTotals(session, Limits.MaxMoney, Limits.MaxChipHours, ct)
            : views.AcceptedByCurrency.ToDictionary(a => a.Key, a => (Sum: a.Value.Amount, a.Value.Records));
        var buckets = UsageHistory.IsWholeDay(axes.ValidBefore) && UsageHistory.IsWholeDay(axes.KnownBefore)
            ? (await UsageHistory.FromBuckets(session, axes, ct)).AcceptedByCurrency.ToDictionary(a => a.Key, a => (Sum: a.Value.Amount, a.Value.Records))
            : null;

        var currencies = spend.Keys.Union(revenue.Keys).Union(drawdown.Keys).Union(accepted.Keys).Union(buckets?.Keys ?? Enumerable.Empty<string>());
        var rows = currencies.Order(StringComparer.Ordinal).Select(currency =>
        {
            var s = spend.GetValueOrDefault(currency);
            var r = revenue.GetValueOrDefault(currency);
            var d = drawdown.GetValueOrDefault(currency);
            var a = accepted.GetValueOrDefault(currency);
            (decimal Sum, long Records)? b = buckets is null ? null : buckets.GetValueOrDefault(currency);
            var agree = new[] { s, r, d }.Concat(b is { } bucket ? [bucket] : []).All(v => v.Sum == a.Sum && v.Records == a.Records);
            return new CurrencyReconciliation(currency, s.Sum, r.Sum, a.Sum, s.Records, r.Records, a.Records, agree,
                d.Sum, d.Records, b?.Sum, b?.Records);
        }).ToList();

        var now = clock.GetCurrentInstant();
        ProjectionLag[] lag =
        [
            await ProjectionLag.Of(session, "ChipSpend", now, null, ct),
            await ProjectionLag.Of(session, "ProviderRevenue", now, null, ct),
            await ProjectionLag.Of(session, "Drawdown", now, null, ct),
            await ProjectionLag.Of(session, Configuration.BucketProjection, now, null, ct),
        ];
        return TypedResults.Ok(new ReconciliationResponse(rows.All(r => r.Balanced), rows, lag));
    }

    private static Dictionary<string, (decimal Sum, long Records)> ByCurrency(IEnumerable<(Money Amount, long Records)> rows) =>
        rows.GroupBy(r => r.Amount.Currency, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => (Sum: g.Sum(r => r.Amount.Amount), Records: g.Sum(r => r.Records)), StringComparer.Ordinal);
}
