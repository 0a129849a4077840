using ComputeLedger.Host.Infrastructure;
using Marten;
using Wolverine.Http;

namespace ComputeLedger.Host.Usage.Reading;

public sealed record CurrencyReconciliation(
    string Currency, decimal ChipSpend, decimal ProviderRevenue, decimal AcceptedUsage,
    long ChipSpendRecords, long ProviderRevenueRecords, long AcceptedRecords, bool Balanced);

public sealed record ReconciliationResponse(bool Balanced, IReadOnlyList<CurrencyReconciliation> Currencies, IReadOnlyList<ProjectionLag> Lag);

/// <summary>
/// Three independent totals that must agree to the cent: the chip-spend read model, the provider-revenue read model,
/// and the amounts written next to each accepted usage id. A gap while a projection lags is expected; the lag says so.
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

        // Now: the read models against the claims table. On other axes: the replayed views against a direct sum of the
        // same events' amounts, which no view code touches.
        var views = await UsageHistory.Views(session, axes!, ct, progress);
        var spend = views.Spend.Values
            .GroupBy(r => r.Spend.Currency).ToDictionary(g => g.Key, g => (Sum: g.Sum(r => r.Spend.Amount), Records: g.Sum(r => r.Records)));
        var revenue = views.Revenue.Values
            .GroupBy(r => r.Revenue.Currency).ToDictionary(g => g.Key, g => (Sum: g.Sum(r => r.Revenue.Amount), Records: g.Sum(r => r.Records)));
        var accepted = axes!.IsNow
            ? await AcceptedTotals(session, ct)
            : views.AcceptedByCurrency.ToDictionary(a => a.Key, a => (Sum: a.Value.Amount, a.Value.Records));

        var rows = spend.Keys.Union(revenue.Keys).Union(accepted.Keys).Order(StringComparer.Ordinal).Select(currency =>
        {
            var s = spend.GetValueOrDefault(currency);
            var r = revenue.GetValueOrDefault(currency);
            var a = accepted.GetValueOrDefault(currency);
            return new CurrencyReconciliation(currency, s.Sum, r.Sum, a.Sum, s.Records, r.Records, a.Records,
                s.Sum == r.Sum && r.Sum == a.Sum && s.Records == a.Records && r.Records == a.Records);
        }).ToList();

        var now = clock.GetCurrentInstant();
        ProjectionLag[] lag =
        [
            await ProjectionLag.Of(session, "ChipSpend", now, null, ct),
            await ProjectionLag.Of(session, "ProviderRevenue", now, null, ct),
        ];
        return TypedResults.Ok(new ReconciliationResponse(rows.All(r => r.Balanced), rows, lag));
    }

    private static async Task<Dictionary<string, (decimal Sum, long Records)>> AcceptedTotals(IQuerySession session, CancellationToken ct)
    {
        await using var connection = session.DocumentStore.Storage.Database.CreateConnection();
        await connection.OpenAsync(ct);
        await using var command = connection.CreateCommand();
        command.CommandText = $"select currency, sum(amount), count(*) filter (where not voided) from {session.DocumentStore.Options.DatabaseSchemaName}.{Configuration.ClaimsTable} group by currency";
        var totals = new Dictionary<string, (decimal, long)>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            totals[reader.GetString(0)] = (reader.GetDecimal(1), reader.GetInt64(2));
        }

        return totals;
    }
}
