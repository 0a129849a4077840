namespace ComputeLedger.Ledger.Commitments.TrackingConsumption;

/// <summary>
/// Drawdown marks: the first time cumulative consumption reaches 50, 75, 90 and 100% of the committed compute, a
/// DrawdownThresholdCrossed is recorded on the commitment, dated by the window start of the record that reached it. A
/// mark stays recorded if a void later takes consumption back under it. The Host measures; this decides.
/// </summary>
public static class DrawdownMarkDecider
{
    /// <summary>
    /// The marks <paramref name="consumed"/> (money, in the committed currency) has reached and the commitment has not
    /// recorded yet; none unless it is signed and something is committed.
    /// </summary>
    public static IReadOnlyList<int> Due(Commitment? state, Money committed, decimal consumed) =>
        state is { Status: CommitmentStatus.Signed } && committed.Amount > 0
            ? Commitment.DrawdownMarks.Where(m => consumed / committed.Amount * 100m >= m && !state.DrawdownThresholdsCrossed.Contains(m)).ToList()
            : [];

    /// <summary>What to measure for a mark: the money of every chip, however late its window.</summary>
    public static ConsumptionMeasure Measure(Money committed, int mark) => new(null, ByHours: false, committed.Amount * mark / 100m, null);

    /// <summary>
    /// Every due mark with a crossing is recorded, with the running total <paramref name="consumed"/> the decision was
    /// taken on. <paramref name="crossings"/>: by mark, the crossing of its <see cref="Measure"/>.
    /// </summary>
    public static IReadOnlyList<object> Decide(Commitment state, Money committed, decimal consumed, IReadOnlyDictionary<int, Crossing> crossings, Instant now) =>
        Due(state, committed, consumed)
            .Where(crossings.ContainsKey)
            .Select(m => (object)new DrawdownThresholdCrossed(state.Id, m, committed, new Money(consumed, committed.Currency),
                crossings[m].Start.InUtc().Date, crossings[m].UsageId, now))
            .ToList();
}
