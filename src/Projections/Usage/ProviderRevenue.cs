using ComputeLedger.Ledger.Usage;
using JasperFx.Events;
using Marten.Events.Projections;

namespace ComputeLedger.Projections.Usage;

/// <summary>Consumed spend per provider and month: the provider's revenue from metered compute.</summary>
public sealed class ProviderRevenue
{
    public string Id { get; set; } = "";
    public string Provider { get; set; } = "";
    public string Month { get; set; } = "";
    public int MonthIndex { get; set; }
    public Money Revenue { get; set; }
    public long Records { get; set; }

    public static string KeyOf(string provider, Instant start) => $"{provider}|{Months.Of(start)}";

    /// <summary>Pure fold step for the row <paramref name="id"/>; voids reverse, corrections move between months.</summary>
    public static ProviderRevenue? Next(ProviderRevenue? row, string id, object @event) => @event switch
    {
        _ when Countable.Of(@event) != Countable.Verdict.Count => row,
        UsageRecorded batch => Fold(row, id, batch),
        ChipHoursConsumed e => Count(row, id, e.Provider, e.Start, e.Amount, +1),
        UsageVoided e => Count(row, id, e.Provider, e.Voided.Start, e.Voided.Amount, -1),
        UsageCorrected e => Count(Count(row, id, e.Provider, e.Before.Start, e.Before.Amount, -1), id, e.Provider, e.After.Start, e.After.Amount, +1),
        _ => row,
    };

    /// <summary>The records of a batch that fall in row <paramref name="id"/>, from the batch's sums per (chip, month).</summary>
    private static ProviderRevenue? Fold(ProviderRevenue? row, string id, UsageRecorded batch)
    {
        if (!string.Equals(id, $"{batch.Provider}|{id[^7..]}", StringComparison.Ordinal) || !Months.TryParse(id[^7..], out var month))
        {
            return row;
        }

        var index = Months.Index(month);
        foreach (var g in BatchTotals.Of(batch).ByMonth)
        {
            if (g.MonthIndex == index)
            {
                row = Add(row, id, batch.Provider, g.Start, new Money(g.Amount, batch.Currency), g.Records);
            }
        }

        return row;
    }

    private static ProviderRevenue? Count(ProviderRevenue? current, string id, string provider, Instant start, Money amount, int sign) =>
        KeyOf(provider, start) != id ? current : Add(current, id, provider, start, amount.Times(sign), sign);

    /// <summary>Adds the revenue of <paramref name="records"/> records (negative amounts and count to take them out).</summary>
    private static ProviderRevenue Add(ProviderRevenue? current, string id, string provider, Instant start, Money amount, long records)
    {
        var row = current ?? new ProviderRevenue
        {
            Id = id,
            Provider = provider,
            Month = Months.Of(start),
            MonthIndex = Months.IndexOf(start),
            Revenue = Money.Zero(amount.Currency),
        };

        row.Revenue = row.Revenue.Plus(amount);
        row.Records += records;
        return row;
    }
}

public sealed partial class ProviderRevenueProjection : MultiStreamProjection<ProviderRevenue, string>
{
    public ProviderRevenueProjection()
    {
        Identity<ChipHoursConsumed>(e => ProviderRevenue.KeyOf(e.Provider, e.Start));
        // The rows a batch touches: distinct months first, so a key is formatted per row, not per record.
        Identities<UsageRecorded>(e => [.. BatchTotals.Of(e).ByMonth.DistinctBy(g => g.MonthIndex).Select(g => ProviderRevenue.KeyOf(e.Provider, g.Start))]);
        Identity<UsageVoided>(e => ProviderRevenue.KeyOf(e.Provider, e.Voided.Start));
        Identities<UsageCorrected>(e => [.. new[] { ProviderRevenue.KeyOf(e.Provider, e.Before.Start), ProviderRevenue.KeyOf(e.Provider, e.After.Start) }.Distinct()]);
    }

    public override ProviderRevenue? Evolve(ProviderRevenue? snapshot, string id, IEvent e) => ProviderRevenue.Next(snapshot, id, Countable.Require(e.Data));
}
