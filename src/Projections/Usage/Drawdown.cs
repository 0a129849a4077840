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

    public static Drawdown Apply(Drawdown? current, object @event, string id)
    {
        var row = current ?? new Drawdown { Id = id };
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
            case ChipHoursConsumed e:
                row.Provider = e.Provider;
                row.Consumed = row.Consumed is { } c ? c.Plus(e.Amount) : e.Amount;
                row.Records++;
                var chip = row.ByChip.TryGetValue(e.Chip, out var existing)
                    ? existing
                    : row.ByChip[e.Chip] = new ChipDrawdown { Consumed = Money.Zero(e.Amount.Currency) };
                chip.ChipHours += e.ChipHours;
                chip.Consumed = chip.Consumed.Plus(e.Amount);
                var month = Months.Of(e.Start);
                row.ByMonth[month] = row.ByMonth.TryGetValue(month, out var m) ? m.Plus(e.Amount) : e.Amount;
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
        Identity<CommitmentOffered>(e => e.Terms.CommitmentId);
    }

    public override Drawdown? Evolve(Drawdown? snapshot, string id, IEvent e) =>
        e.Data is ChipHoursConsumed or CommitmentOffered ? Drawdown.Apply(snapshot, e.Data, id) : snapshot;
}
