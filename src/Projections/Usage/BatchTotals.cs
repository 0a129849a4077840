using System.Runtime.CompilerServices;
using ComputeLedger.Ledger.Usage;

namespace ComputeLedger.Projections.Usage;

/// <summary>A batch's distinct chips, and for each record the index of its chip among them.</summary>
public sealed record BatchChips(string[] Chips, int[] Index);

/// <summary>The records of one batch event that share a chip and a month (UTC, of their start), summed.</summary>
public sealed record BatchGroup(string Chip, int MonthIndex, Instant Start, decimal ChipHours, decimal Amount, long Records,
    decimal Tokens, decimal TokenizedAmount, long TokenizedRecords)
{
    public string Month => Months.Of(Start);
}

/// <summary>
/// A batch's records summed per (chip, month), once per event for every live view that counts it: chip spend, provider
/// revenue and drawdown add a few sums per row instead of walking all the batch's records for every row it touches.
/// Exact: decimal sums of values inside the ledger's limits lose nothing, and a sum added at once equals its parts
/// added in turn. Kept per event object while the daemon holds it.
/// </summary>
public static class BatchTotals
{
    private static readonly ConditionalWeakTable<UsageRecorded, IReadOnlyList<BatchGroup>> Memo = new();

    public static IReadOnlyList<BatchGroup> Of(UsageRecorded batch) => Memo.GetValue(batch, Sum);

    private static readonly ConditionalWeakTable<UsageRecorded, BatchChips> ChipMemo = new();

    /// <summary>
    /// Each record's chip as an index into the batch's distinct chips, so the folds that group a batch by chip and day
    /// key their groups by integers. Chips compare by reference first: a stored batch shares one string per chip.
    /// </summary>
    public static BatchChips ChipsOf(UsageRecorded batch) => ChipMemo.GetValue(batch, static b =>
    {
        var chips = new List<string>(4);
        var index = new int[b.Records.Count];
        for (var i = 0; i < index.Length; i++)
        {
            var chip = b.Records[i].Chip;
            var found = -1;
            for (var c = 0; c < chips.Count && found < 0; c++)
            {
                if (ReferenceEquals(chips[c], chip) || string.Equals(chips[c], chip, StringComparison.Ordinal))
                {
                    found = c;
                }
            }

            if (found < 0)
            {
                found = chips.Count;
                chips.Add(chip);
            }

            index[i] = found;
        }

        return new BatchChips([.. chips], index);
    });

    private sealed class Sums(string chip, int month, Instant start)
    {
        public readonly string Chip = chip;
        public readonly int Month = month;
        public readonly Instant Start = start;
        public decimal ChipHours, Amount, Tokens, TokenizedAmount;
        public long Records, TokenizedRecords;
    }

    private static IReadOnlyList<BatchGroup> Sum(UsageRecorded batch)
    {
        // A batch touches a few (chip, month) pairs: a short list searched from the last match beats a hash per record.
        var sums = new List<Sums>();
        Sums? last = null;
        foreach (var r in batch.Records)
        {
            var month = Months.IndexOf(r.Start);
            if (last is null || last.Month != month || !string.Equals(last.Chip, r.Chip, StringComparison.Ordinal))
            {
                last = sums.Find(s => s.Month == month && string.Equals(s.Chip, r.Chip, StringComparison.Ordinal));
                if (last is null)
                {
                    sums.Add(last = new Sums(r.Chip, month, r.Start));
                }
            }

            last.ChipHours += r.ChipHours;
            last.Amount += r.Amount;
            last.Records++;
            if (r.Tokens is { } tokens)
            {
                last.Tokens += tokens;
                last.TokenizedAmount += r.Amount;
                last.TokenizedRecords++;
            }
        }

        return [.. sums.Select(s => new BatchGroup(s.Chip, s.Month, s.Start, s.ChipHours, s.Amount, s.Records, s.Tokens, s.TokenizedAmount, s.TokenizedRecords))];
    }
}
