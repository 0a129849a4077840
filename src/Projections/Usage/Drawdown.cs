using ComputeLedger.Ledger.Commitments;
using ComputeLedger.Ledger.Usage;
using JasperFx.Events;
using Marten.Events.Projections;

namespace ComputeLedger.Projections.Usage;

public sealed class ChipDrawdown
{
    public decimal ChipHours { get; set; }
    public Money Consumed { get; set; }
}

/// <summary>
/// How far one commitment's compute has been drawn down: consumption by chip and by month, against what was committed.
/// Fed by the commitment's own stream (for the committed figure) and by every usage stream that draws on it.
/// </summary>
public sealed class Drawdown
{
    public string Id { get; set; } = "";
    public string Provider { get; set; } = "";
    public Money? Committed { get; set; }
    public LocalDate? TermStart { get; set; }
    public LocalDate? TermEnd { get; set; }
    public Money? Consumed { get; set; }
    public long Records { get; set; }
    public Dictionary<string, ChipDrawdown> ByChip { get; set; } = new(StringComparer.Ordinal);
    public Dictionary<string, Money> ByMonth { get; set; } = new(StringComparer.Ordinal);

    private void Count(string provider, string chip, Instant start, decimal hours, Money amount, int sign) =>
        Add(provider, chip, Months.Of(start), sign * hours, amount.Times(sign), sign);

    /// <summary>Adds <paramref name="records"/> records' sums of one chip and month (negative to take them out).</summary>
    private void Add(string provider, string chip, string month, decimal hours, Money amount, long records)
    {
        Provider = provider;
        Consumed = Consumed is { } c ? c.Plus(amount) : amount;
        Records += records;
        var byChip = ByChip.TryGetValue(chip, out var existing)
            ? existing
            : ByChip[chip] = new ChipDrawdown { Consumed = Money.Zero(amount.Currency) };
        byChip.ChipHours += hours;
        byChip.Consumed = byChip.Consumed.Plus(amount);
        ByMonth[month] = ByMonth.TryGetValue(month, out var m) ? m.Plus(amount) : amount;
    }

    public static Drawdown Apply(Drawdown? current, object @event, string id)
    {
        var row = current ?? new Drawdown { Id = id };
        if (Countable.Of(@event) != Countable.Verdict.Count)
        {
            return row;
        }

        switch (@event)
        {
            case CommitmentOffered offered:
                row.Provider = offered.Terms.Provider;
                if (offered.Terms.Compute is { } compute)
                {
                    row.Committed = compute.CommittedSpend;
                    row.TermStart = compute.TermStart;
                    row.TermEnd = compute.TermEnd;
                }

                break;
            case UsageRecorded batch:
                foreach (var g in BatchTotals.Of(batch).ByMonth)
                {
                    row.Add(batch.Provider, g.Chip, g.Month, g.ChipHours, new Money(g.Amount, batch.Currency), g.Records);
                }

                break;
            case ChipHoursConsumed e:
                row.Count(e.Provider, e.Chip, e.Start, e.ChipHours, e.Amount, +1);
                break;
            case UsageVoided e:
                row.Count(e.Provider, e.Chip, e.Voided.Start, e.Voided.ChipHours, e.Voided.Amount, -1);
                break;
            case UsageCorrected e:
                row.Count(e.Provider, e.Chip, e.Before.Start, e.Before.ChipHours, e.Before.Amount, -1);
                row.Count(e.Provider, e.Chip, e.After.Start, e.After.ChipHours, e.After.Amount, +1);
                break;
        }

        return row;
    }
}

public sealed partial class DrawdownProjection : MultiStreamProjection<Drawdown, string>
{
    public DrawdownProjection()
    {
        Identity<ChipHoursConsumed>(e => e.CommitmentId);
        Identity<UsageRecorded>(e => e.CommitmentId);
        Identity<CommitmentOffered>(e => e.Terms.CommitmentId);
        Identity<UsageVoided>(e => e.CommitmentId);
        Identity<UsageCorrected>(e => e.CommitmentId);
    }

    public override Drawdown? Evolve(Drawdown? snapshot, string id, IEvent e) =>
        e.Data is ChipHoursConsumed or UsageRecorded or CommitmentOffered or UsageVoided or UsageCorrected ? Drawdown.Apply(snapshot, Countable.Require(e.Data), id) : snapshot;
}
