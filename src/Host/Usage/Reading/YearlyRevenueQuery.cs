using ComputeLedger.Host.Commitments.Reading;
using ComputeLedger.Host.Infrastructure;
using ComputeLedger.Ledger.Commitments;
using ComputeLedger.Projections.Usage;
using Marten;
using Wolverine.Http;

namespace ComputeLedger.Host.Usage.Reading;

/// <summary>
/// A provider's year: metered revenue, the backlog of its active commitments at year end (committed minus consumed
/// through December), growth over the year before (null without revenue that year) and its share of every provider's
/// revenue that year (null when no provider had any).
/// </summary>
public sealed record YearlyRevenueRow(string Provider, int Year, Money Revenue, Money Backlog, decimal? GrowthYoY, decimal? Share, int ActiveCommitments, long Records);

public sealed record YearlyRevenueResponse(int From, int To, IReadOnlyList<YearlyRevenueRow> Rows, ProjectionLag Lag);

/// <summary>The article's "Market Share and Growth Metrics" table, from the ledger's metered revenue, on both time axes.</summary>
public static class YearlyRevenueQuery
{
    public const int FirstYear = 2000;
    public const int LastYear = 2100;

    [WolverineGet("/api/revenue/providers/yearly", OperationId = "GetProviderRevenueYearly")]
    [Tags("Usage")]
    public static async Task<IResult> Get(string? from, string? to, string? provider, string? asOf, string? knownAt,
        IQuerySession session, IClock clock, HttpResponse response, ReplayProgress progress, CancellationToken ct)
    {
        var errors = new List<(string, string)>();
        var first = Year(from, "from", errors);
        var last = Year(to, "to", errors);
        var only = Fields.Name(provider, "provider", errors, required: false);
        if (errors.Count == 0 && first is { } f && last is { } l && f > l)
        {
            errors.Add(("to", $"to must not be before from; got from={f}, to={l}."));
        }

        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }

        var (axes, problem) = TimeAxes.Parse(asOf, knownAt);
        if (problem is not null)
        {
            return problem;
        }

        var views = await UsageHistory.Views(session, axes!, ct, progress);
        var signed = (await CommitmentQueries.All(session, axes!, ct))
            .Where(c => c.Status == CommitmentStatus.Signed && c.ComputeCommitment is not null).ToList();

        // Revenue per provider, year and currency; every provider's, for the shares.
        var revenue = views.Revenue.Values
            .GroupBy(r => (r.Provider, Year: Months.Parse(r.Month).Year, r.Revenue.Currency))
            .ToDictionary(g => g.Key, g => (Amount: g.Sum(r => r.Revenue.Amount), Records: g.Sum(r => r.Records)));
        var years = revenue.Keys.Select(k => k.Year).ToList();
        var from0 = first ?? (years.Count > 0 ? years.Min() : LastYear);
        var to0 = last ?? (years.Count > 0 ? years.Max() : FirstYear);

        // Listed: provider-years with revenue, and, in an explicit range, every year a commitment of the provider was active.
        var keys = revenue.Keys.Where(k => k.Year >= from0 && k.Year <= to0).ToHashSet();
        if (first is not null && last is not null)
        {
            foreach (var c in signed)
            {
                for (var y = from0; y <= to0; y++)
                {
                    if (Outlook.IsActive(c, new YearMonth(y, 12)))
                    {
                        keys.Add((c.Provider, y, c.ComputeCommitment!.CommittedSpend.Currency));
                    }
                }
            }
        }

        var rows = keys
            .Where(k => only is null || k.Provider == only)
            .OrderBy(k => k.Year).ThenBy(k => k.Provider, StringComparer.Ordinal).ThenBy(k => k.Currency, StringComparer.Ordinal)
            .Select(k =>
            {
                var (amount, records) = revenue.GetValueOrDefault(k);
                var before = revenue.TryGetValue((k.Provider, k.Year - 1, k.Currency), out var b) && b.Amount != 0 ? b.Amount : (decimal?)null;
                var total = revenue.Where(r => r.Key.Year == k.Year && r.Key.Currency == k.Currency).Sum(r => r.Value.Amount);
                var active = signed.Where(c => c.Provider == k.Provider && c.ComputeCommitment!.CommittedSpend.Currency == k.Currency
                    && Outlook.IsActive(c, new YearMonth(k.Year, 12))).ToList();
                var yearEnd = $"{k.Year:D4}-12";
                var backlog = active.Sum(c =>
                {
                    var consumedThrough = views.Drawdowns.TryGetValue(c.CommitmentId, out var d)
                        ? d.ByMonth.Where(m => string.CompareOrdinal(m.Key, yearEnd) <= 0).Sum(m => m.Value.Amount)
                        : 0m;
                    return Math.Max(0m, c.ComputeCommitment!.CommittedSpend.Amount - consumedThrough);
                });
                return new YearlyRevenueRow(k.Provider, k.Year, new Money(amount, k.Currency), new Money(backlog, k.Currency),
                    before is { } p ? decimal.Round((amount / p) - 1m, 6, MidpointRounding.AwayFromZero) : null,
                    total != 0 ? decimal.Round(amount / total, 6, MidpointRounding.AwayFromZero) : null,
                    active.Count, records);
            })
            .ToList();

        var lag = await ProjectionLag.Of(session, "ProviderRevenue", clock.GetCurrentInstant(), response, ct);
        return TypedResults.Ok(new YearlyRevenueResponse(from0, to0, rows, lag));
    }

    private static int? Year(string? text, string field, List<(string, string)> errors)
    {
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        if (text.Length == 4 && text.All(char.IsAsciiDigit) && int.Parse(text, System.Globalization.CultureInfo.InvariantCulture) is var y and >= FirstYear and <= LastYear)
        {
            return y;
        }

        errors.Add((field, $"{field} must be a year written yyyy between {FirstYear} and {LastYear} (e.g. 2025)."));
        return null;
    }
}
