namespace ComputeLedger.Ledger.Commitments.TrackingConsumption;

/// <summary>
/// The ledger's own decisions on consumption milestones. The Host measures the commitment's stored usage as
/// <see cref="Measure"/> asks (a crossing, a running total) and passes the figures in; these functions decide from the
/// state and those figures alone. Each works only on milestones the state still leaves open, so deciding again on the
/// state after its own events decides nothing: retries and concurrent detectors stay idempotent.
/// </summary>
public static class ConsumptionMilestoneDecider
{
    /// <summary>The RecordedBy of what the ledger decides itself.</summary>
    public const string Detector = "ledger";

    /// <summary>Consumption milestones of a signed commitment neither achieved nor missed yet.</summary>
    public static IReadOnlyList<MilestoneDefinition> Pending(Commitment? state) => state is { Status: CommitmentStatus.Signed }
        ? state.Terms.Milestones.Where(m => m.Kind == MilestoneKind.Consumption && m.Threshold is not null
                                            && !state.AchievedMilestones.ContainsKey(m.MilestoneId) && !state.MissedMilestones.Contains(m.MilestoneId)).ToList()
        : [];

    /// <summary>Achieved consumption milestones whose dip under the threshold is not recorded yet (a dip is recorded once).</summary>
    public static IReadOnlyList<MilestoneDefinition> Achieved(Commitment? state) => state is null
        ? []
        : state.Terms.Milestones.Where(m => m.Kind == MilestoneKind.Consumption && m.Threshold is not null
                                            && state.AchievedMilestones.ContainsKey(m.MilestoneId) && !state.ThresholdReverted.Contains(m.MilestoneId)).ToList();

    /// <summary>Pending milestones whose deadline day (UTC) is over at <paramref name="now"/>.</summary>
    public static IReadOnlyList<MilestoneDefinition> PastDeadline(Commitment? state, Instant now) =>
        Pending(state).Where(m => m.Deadline is { } d && d < now.InUtc().Date).ToList();

    /// <summary>
    /// What to measure for a milestone: its threshold over its chips, in money or chip-hours. With a deadline, only usage
    /// whose window starts by the end of the deadline day counts toward the crossing.
    /// </summary>
    public static ConsumptionMeasure Measure(MilestoneDefinition milestone) => new(
        milestone.Chips,
        milestone.Threshold!.ChipHours is not null,
        milestone.Threshold.ChipHours ?? milestone.Threshold.Spend!.Value.Amount,
        milestone.Deadline?.PlusDays(1).AtStartOfDayInZone(DateTimeZone.Utc).ToInstant());

    /// <summary>
    /// Usage was stored or changed: every pending milestone with a crossing is achieved, on the business date (UTC) of
    /// the window start of the record that reached its threshold. <paramref name="crossings"/>: by milestone id, the
    /// crossing of its <see cref="Measure"/>; a pending milestone without one is not reached yet.
    /// </summary>
    public static IReadOnlyList<object> Reached(Commitment state, IReadOnlyDictionary<string, Crossing> crossings, Instant now) =>
        Pending(state)
            .Where(m => crossings.ContainsKey(m.MilestoneId))
            .Select(m =>
            {
                var crossing = crossings[m.MilestoneId];
                var threshold = m.Threshold!.Spend?.ToString() ?? $"{m.Threshold.ChipHours} chip-hours";
                return (object)new MilestoneAchieved(state.Id, m.MilestoneId, crossing.Start.InUtc().Date,
                    $"cumulative consumption reached {threshold} with usage '{crossing.UsageId}'", now, Detector);
            })
            .ToList();

    /// <summary>
    /// A void or correction (<paramref name="causedBy"/>, a usage id) changed consumption: an achieved milestone whose
    /// running total is now under its threshold gets one MilestoneThresholdReverted. It stays achieved; what was paid on
    /// it stands. <paramref name="consumed"/>: by milestone id, the running total of its <see cref="Measure"/>.
    /// </summary>
    public static IReadOnlyList<object> Reverted(Commitment state, IReadOnlyDictionary<string, decimal> consumed, string causedBy, Instant now) =>
        Achieved(state)
            .Where(m => consumed.TryGetValue(m.MilestoneId, out var total) && total < Measure(m).Threshold)
            .Select(m => (object)new MilestoneThresholdReverted(state.Id, m.MilestoneId, state.AchievedMilestones[m.MilestoneId],
                consumed[m.MilestoneId], causedBy, now))
            .ToList();

    /// <summary>
    /// A milestone's deadline day is over: achieved if usage valid by then crossed its threshold (usage recorded late
    /// still counts), otherwise missed, with the running total it stood at. Every milestone past its deadline needs its
    /// running total in <paramref name="consumed"/> unless it has a crossing.
    /// </summary>
    public static IReadOnlyList<object> AtDeadline(Commitment state, IReadOnlyDictionary<string, Crossing> crossings,
        IReadOnlyDictionary<string, decimal> consumed, Instant now) =>
        PastDeadline(state, now)
            .Select(m => crossings.TryGetValue(m.MilestoneId, out var crossing)
                ? (object)new MilestoneAchieved(state.Id, m.MilestoneId, crossing.Start.InUtc().Date,
                    $"cumulative consumption reached its threshold by the deadline with usage '{crossing.UsageId}'", now, Detector)
                : new MilestoneMissed(state.Id, m.MilestoneId, m.Deadline!.Value,
                    consumed.TryGetValue(m.MilestoneId, out var total)
                        ? total
                        : throw new ArgumentException($"No running total was measured for milestone '{m.MilestoneId}' past its deadline.", nameof(consumed)),
                    now))
            .ToList();
}
