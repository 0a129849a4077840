using ComputeLedger.Ledger.Usage;
using JasperFx.Events;
using Marten.Events.Projections;

namespace ComputeLedger.Projections.Usage;

/// <summary>
/// Spend per chip, provider and month. Cost per 1M tokens divides only the spend of records that reported tokens,
/// so records without tokens neither dilute nor inflate it.
/// </summary>
public sealed class ChipSpend
{
    public string Id { get; set; } = "";
    public string Chip { get; set; } = "";
    public string Provider { get; set; } = "";
    public string Month { get; set; } = "";
    public int MonthIndex { get; set; }
    public decimal ChipHours { get; set; }
    public Money Spend { get; set; }
    public long Tokens { get; set; }
    public Money TokenizedSpend { get; set; }
    public long Records { get; set; }

    public static string KeyOf(string provider, string chip, string month) => $"{provider}|{chip}|{month}";

    public decimal? CostPer1MTokens => Tokens > 0 ? decimal.Round(TokenizedSpend.Amount / Tokens * 1_000_000m, 6) : null;

    /// <summary>Pure fold step: adds one consumption to its chip-month.</summary>
    public static ChipSpend Add(ChipSpend? current, ChipHoursConsumed e)
    {
        var row = current ?? new ChipSpend
        {
            Id = KeyOf(e.Provider, e.Chip, Months.Of(e.Start)),
            Chip = e.Chip,
            Provider = e.Provider,
            Month = Months.Of(e.Start),
            MonthIndex = Months.IndexOf(e.Start),
            Spend = Money.Zero(e.Amount.Currency),
            TokenizedSpend = Money.Zero(e.Amount.Currency),
        };

        row.ChipHours += e.ChipHours;
        row.Spend = row.Spend.Plus(e.Amount);
        row.Records++;
        if (e.Tokens is { } tokens)
        {
            row.Tokens += tokens;
            row.TokenizedSpend = row.TokenizedSpend.Plus(e.Amount);
        }

        return row;
    }
}

public sealed partial class ChipSpendProjection : MultiStreamProjection<ChipSpend, string>
{
    public ChipSpendProjection()
    {
        Identity<ChipHoursConsumed>(e => ChipSpend.KeyOf(e.Provider, e.Chip, Months.Of(e.Start)));
    }

    public override ChipSpend? Evolve(ChipSpend? snapshot, string id, IEvent e) =>
        e.Data is ChipHoursConsumed consumed ? ChipSpend.Add(snapshot, consumed) : snapshot;
}
