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

    public static string KeyOf(string provider, string month) => $"{provider}|{month}";

    public static ProviderRevenue Add(ProviderRevenue? current, ChipHoursConsumed e)
    {
        var row = current ?? new ProviderRevenue
        {
            Id = KeyOf(e.Provider, Months.Of(e.Start)),
            Provider = e.Provider,
            Month = Months.Of(e.Start),
            MonthIndex = Months.IndexOf(e.Start),
            Revenue = Money.Zero(e.Amount.Currency),
        };

        row.Revenue = row.Revenue.Plus(e.Amount);
        row.Records++;
        return row;
    }
}

public sealed partial class ProviderRevenueProjection : MultiStreamProjection<ProviderRevenue, string>
{
    public ProviderRevenueProjection()
    {
        Identity<ChipHoursConsumed>(e => ProviderRevenue.KeyOf(e.Provider, Months.Of(e.Start)));
    }

    public override ProviderRevenue? Evolve(ProviderRevenue? snapshot, string id, IEvent e) =>
        e.Data is ChipHoursConsumed consumed ? ProviderRevenue.Add(snapshot, consumed) : snapshot;
}
