using ComputeLedger.Host.Infrastructure;
using ComputeLedger.Host.Usage.Reading;
using ComputeLedger.Ledger.Catalog;
using ComputeLedger.Projections.Catalog;
using ComputeLedger.Projections.Economics;
using Marten;
using Wolverine.Http;

namespace ComputeLedger.Host.Economics;

public sealed record ChipEconomicsResponse(
    string From, string To, LocalDate SpecsOn, IReadOnlyList<ChipEconomicsRow> Rows, IReadOnlyList<H100Reference> H100, ProjectionLag Lag);

/// <summary>
/// The article's "Benchmark Performance Data" table from the ledger's own consumption: measured prices per chip-hour and
/// per 1M tokens next to the chips' published figures, normalised to H100-equivalent hours. Reads the chip spend view
/// (now) or its bitemporal buckets (asOf/knownAt), so the cost does not grow with history. The figures applied are
/// those in force on <c>specsOn</c> (the last day of the range, of asOf, or today, whichever comes first) as published
/// before knownAt.
/// </summary>
public static class ChipEconomicsQuery
{
    [WolverineGet("/api/economics/chips", OperationId = "GetChipEconomics")]
    [Tags("Economics")]
    public static async Task<IResult> Get(string? from, string? to, string? provider, string? asOf, string? knownAt,
        IQuerySession session, IClock clock, HttpResponse response, ReplayProgress progress, CancellationToken ct)
    {
        if (MonthRange.Parse(from, to) is not { } range)
        {
            return Problems.Invalid([MonthRange.Error(from)]);
        }

        var (axes, problem) = TimeAxes.Parse(asOf, knownAt);
        if (problem is not null)
        {
            return problem;
        }

        var errors = new List<(string, string)>();
        var only = Fields.Name(provider, "provider", errors, required: false);
        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }

        var views = await UsageHistory.Views(session, axes!, ct, progress);
        var spend = views.Spend.Values.Where(r => r.MonthIndex >= range.FromIndex && r.MonthIndex <= range.ToIndex);

        var now = clock.GetCurrentInstant();
        var rangeEnd = Projections.Usage.Months.Parse(range.To).OnDayOfMonth(1).PlusMonths(1).PlusDays(-1);
        var specsOn = new[] { rangeEnd, axes!.ValidThrough ?? rangeEnd, now.InUtc().Date }.Min();
        var chips = (await session.Query<ChipView>().ToListAsync(ct)).ToDictionary(c => c.Name, StringComparer.OrdinalIgnoreCase);
        ChipSpecs? SpecsOf(string chip) => chips.TryGetValue(chip, out var c) ? ChipSpecBook.InForce(c.Specs, specsOn, axes.KnownBefore)?.Specs : null;

        var (rows, references) = ChipEconomics.Compute(spend, only, SpecsOf);
        var lag = await ProjectionLag.Of(session, "ChipSpend", now, response, ct);
        return TypedResults.Ok(new ChipEconomicsResponse(range.From, range.To, specsOn, rows, references, lag));
    }
}
