using System.Runtime.CompilerServices;
using ComputeLedger.Ledger.Usage;

namespace ComputeLedger.Projections.Usage;

/// <summary>
/// The records of one batch event that share a chip (an index into <see cref="BatchTotals.Chips"/>), a UTC day of their
/// start and whether they carry tokens, summed; <see cref="Start"/> is the first such record's.
/// </summary>
public sealed record BatchDay(int Chip, int Day, bool Tokenized, Instant Start, decimal ChipHours, decimal Amount, decimal Tokens, int Records);

/// <summary>The records of one batch event that share a chip and a month (UTC, of their start), summed.</summary>
public sealed record BatchGroup(string Chip, int MonthIndex, Instant Start, decimal ChipHours, decimal Amount, long Records,
    decimal Tokens, decimal TokenizedAmount, long TokenizedRecords)
{
    public string Month => Months.Of(Start);
}

/// <summary>
/// A batch's records summed once per event for every view that folds it: per (chip, day, tokens or not) for the
/// time-travel buckets, per (chip, month) for chip spend, provider revenue and drawdown, which add a few sums per row
/// instead of walking all the batch's records for every row it touches. Each record's chip is also given as an index
/// into the batch's distinct chips, so folds that group by chip key their groups by integers. Exact: decimal sums of
/// values inside the ledger's limits lose nothing, and a sum added at once equals its parts added in turn. Groups come
/// in the order their first record does. Kept per event object while the daemon holds it.
/// </summary>
public sealed class BatchTotals
{
    private static readonly ConditionalWeakTable<UsageRecorded, BatchTotals> Memo = new();

    private BatchTotals(string[] chips, int[] chipOf, IReadOnlyList<BatchDay> byDay, IReadOnlyList<BatchGroup> byMonth)
    {
        Chips = chips;
        ChipOf = chipOf;
        ByDay = byDay;
        ByMonth = byMonth;
    }

    /// <summary>The batch's distinct chips, in the order they first appear.</summary>
    public string[] Chips { get; }

    /// <summary>For each record, the index of its chip in <see cref="Chips"/>.</summary>
    public int[] ChipOf { get; }

    public IReadOnlyList<BatchDay> ByDay { get; }

    public IReadOnlyList<BatchGroup> ByMonth { get; }

    public static BatchTotals Of(UsageRecorded batch) => Memo.GetValue(batch, Sum);

    private sealed class DaySum(int chip, int day, bool tokenized, Instant start)
    {
        public readonly int Chip = chip, Day = day;
        public readonly bool Tokenized = tokenized;
        public readonly Instant Start = start;
        public decimal ChipHours, Amount, Tokens;
        public int Records;
    }

    private static BatchTotals Sum(UsageRecorded batch)
    {
        var records = batch.Records;
        var chips = new List<string>(4);
        var chipOf = new int[records.Count];
        var days = new Dictionary<(int Chip, int Day, bool Tokenized), DaySum>();
        for (var i = 0; i < records.Count; i++)
        {
            var r = records[i];
            var chip = chipOf[i] = DistinctNames.IndexOf(chips, r.Chip);
            var (day, tokenized) = (UsageBucket.DayOf(r.Start), r.Tokens is not null);
            if (!days.TryGetValue((chip, day, tokenized), out var sum))
            {
                days[(chip, day, tokenized)] = sum = new DaySum(chip, day, tokenized, r.Start);
            }

            sum.ChipHours += r.ChipHours;
            sum.Amount += r.Amount;
            sum.Tokens += r.Tokens ?? 0;
            sum.Records++;
        }

        var months = new List<(int Chip, int Month, BatchGroup Group)>();
        foreach (var d in days.Values)
        {
            var month = Months.IndexOf(d.Start);
            var at = months.FindIndex(m => m.Chip == d.Chip && m.Month == month);
            var g = at < 0 ? new BatchGroup(chips[d.Chip], month, d.Start, 0, 0, 0, 0, 0, 0) : months[at].Group;
            g = g with
            {
                ChipHours = g.ChipHours + d.ChipHours,
                Amount = g.Amount + d.Amount,
                Records = g.Records + d.Records,
                Tokens = g.Tokens + d.Tokens,
                TokenizedAmount = d.Tokenized ? g.TokenizedAmount + d.Amount : g.TokenizedAmount,
                TokenizedRecords = d.Tokenized ? g.TokenizedRecords + d.Records : g.TokenizedRecords,
            };
            if (at < 0)
            {
                months.Add((d.Chip, month, g));
            }
            else
            {
                months[at] = (d.Chip, month, g);
            }
        }

        return new BatchTotals([.. chips], chipOf,
            [.. days.Values.Select(d => new BatchDay(d.Chip, d.Day, d.Tokenized, d.Start, d.ChipHours, d.Amount, d.Tokens, d.Records))],
            [.. months.Select(m => m.Group)]);
    }
}
