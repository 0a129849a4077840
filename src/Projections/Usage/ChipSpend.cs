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
    /// <summary>Decimal, not long: 10^4 records of 10^15 tokens (each inside the limits) already pass long's range.</summary>
    public decimal Tokens { get; set; }
    public Money TokenizedSpend { get; set; }
    public long Records { get; set; }

    public static string KeyOf(string provider, string chip, Instant start) => $"{provider}|{chip}|{Months.Of(start)}";

    public decimal? CostPer1MTokens => CostPerMillion(TokenizedSpend.Amount, Tokens);

    /// <summary>
    /// Spend per 10^6 tokens, to the micro-unit; none without tokens, or when the figure is beyond what a decimal holds
    /// (a spend near 10^23 over a single token), rather than an overflow on read.
    /// </summary>
    public static decimal? CostPerMillion(decimal spend, decimal tokens)
    {
        if (tokens <= 0)
        {
            return null;
        }

        var perToken = spend / tokens;
        return Math.Abs(perToken) <= decimal.MaxValue / 1_000_000m ? decimal.Round(perToken * 1_000_000m, 6) : null;
    }

    /// <summary>
    /// Pure fold step for the row <paramref name="id"/>: counts a consumption, reverses a void, and moves a correction
    /// out of the month of its old figures and into the month of its new ones.
    /// </summary>
    public static ChipSpend? Next(ChipSpend? row, string id, object @event) => @event switch
    {
        _ when Countable.Of(@event) != Countable.Verdict.Count => row,
        UsageRecorded batch => Fold(row, id, batch),
        ChipHoursConsumed e => Count(row, id, e.Provider, e.Chip, e.Start, e.ChipHours, e.Amount, e.Tokens, +1),
        UsageVoided e => Count(row, id, e.Provider, e.Chip, e.Voided.Start, e.Voided.ChipHours, e.Voided.Amount, e.Voided.Tokens, -1),
        UsageCorrected e => Count(
            KeyOf(e.Provider, e.Chip, e.Before.Start) == id ? Count(row, id, e.Provider, e.Chip, e.Before.Start, e.Before.ChipHours, e.Before.Amount, e.Before.Tokens, -1) : row,
            id, e.Provider, e.Chip, e.After.Start, e.After.ChipHours, e.After.Amount, e.After.Tokens,
            KeyOf(e.Provider, e.Chip, e.After.Start) == id ? +1 : 0),
        _ => row,
    };

    /// <summary>
    /// The records of a batch that fall in row <paramref name="id"/>, from the batch's sums per (chip, month): the daemon
    /// calls this once per row the batch touches.
    /// </summary>
    private static ChipSpend? Fold(ChipSpend? row, string id, UsageRecorded batch)
    {
        if (!id.StartsWith(batch.Provider + "|", StringComparison.Ordinal) || !Months.TryParse(id[^7..], out var month))
        {
            return row;
        }

        var chip = id[(batch.Provider.Length + 1)..^8];
        var index = Months.Index(month);
        foreach (var g in BatchTotals.Of(batch).ByMonth)
        {
            if (g.MonthIndex == index && string.Equals(g.Chip, chip, StringComparison.Ordinal))
            {
                row = Add(row, id, batch.Provider, g.Chip, g.Start, g.ChipHours, new Money(g.Amount, batch.Currency), g.Records,
                    g.TokenizedRecords > 0 ? (g.Tokens, new Money(g.TokenizedAmount, batch.Currency)) : null);
            }
        }

        return row;
    }

    private static ChipSpend? Count(ChipSpend? current, string id, string provider, string chip, Instant start, decimal hours, Money amount, long? tokens, int sign) =>
        sign == 0 || KeyOf(provider, chip, start) != id ? current
            : Add(current, id, provider, chip, start, sign * hours, amount.Times(sign), sign, tokens is { } t ? (sign * (decimal)t, amount.Times(sign)) : null);

    /// <summary>Adds <paramref name="records"/> records' sums (negative to take them out); the tokenized part only of records that reported tokens.</summary>
    private static ChipSpend Add(ChipSpend? current, string id, string provider, string chip, Instant start, decimal hours, Money amount, long records,
        (decimal Tokens, Money Amount)? tokenized)
    {
        var row = current ?? new ChipSpend
        {
            Id = id,
            Chip = chip,
            Provider = provider,
            Month = Months.Of(start),
            MonthIndex = Months.IndexOf(start),
            Spend = Money.Zero(amount.Currency),
            TokenizedSpend = Money.Zero(amount.Currency),
        };

        row.ChipHours += hours;
        row.Spend = row.Spend.Plus(amount);
        row.Records += records;
        if (tokenized is { } t)
        {
            row.Tokens += t.Tokens;
            row.TokenizedSpend = row.TokenizedSpend.Plus(t.Amount);
        }

        return row;
    }
}

public sealed partial class ChipSpendProjection : MultiStreamProjection<ChipSpend, string>
{
    public ChipSpendProjection()
    {
        Identity<ChipHoursConsumed>(e => ChipSpend.KeyOf(e.Provider, e.Chip, e.Start));
        // The rows a batch touches: distinct (chip, month) first, so a key is formatted per row, not per record.
        Identities<UsageRecorded>(e => [.. BatchTotals.Of(e).ByMonth.Select(g => ChipSpend.KeyOf(e.Provider, g.Chip, g.Start))]);
        Identity<UsageVoided>(e => ChipSpend.KeyOf(e.Provider, e.Chip, e.Voided.Start));
        Identities<UsageCorrected>(e => [.. new[] { ChipSpend.KeyOf(e.Provider, e.Chip, e.Before.Start), ChipSpend.KeyOf(e.Provider, e.Chip, e.After.Start) }.Distinct()]);
    }

    public override ChipSpend? Evolve(ChipSpend? snapshot, string id, IEvent e) => ChipSpend.Next(snapshot, id, Countable.Require(e.Data));
}
