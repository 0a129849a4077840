using ComputeLedger.Ledger.Commitments;
using ComputeLedger.Ledger.Commitments.TrackingConsumption;
using Marten;
using Wolverine;
using ComputeLedger.Host.Usage;

namespace ComputeLedger.Host.Commitments.TrackingConsumption;

/// <summary>
/// Consumption milestones, as the Host sees them: gather the facts <see cref="ConsumptionMilestoneDecider"/> asks for
/// (crossings and running totals of the commitment's usage claims) under the commitment's lock, and append what it
/// decides through <see cref="CommitmentStream.DecideLocked"/>. Called inside the ingest transaction (new usage), the
/// correction transaction (voids, corrections) and by the watch (deadlines), so concurrent batches decide one after
/// the other and each milestone is decided exactly once.
/// </summary>
public static class ConsumptionMilestones
{
    /// <summary>
    /// <paramref name="streamsBefore"/>: commitment streams the caller read at the start of its request, used for the
    /// unlocked "anything pending?" look only (the decision itself re-reads the stream under the lock).
    /// </summary>
    public static async Task Detect(IDocumentSession session, IMessageBus bus, IEnumerable<string> commitmentIds, Instant now, CancellationToken ct,
        IReadOnlyDictionary<string, IReadOnlyList<JasperFx.Events.IEvent>>? streamsBefore = null)
    {
        foreach (var id in commitmentIds.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            await CommitmentStream.DecideLocked(session, bus, id, state => ConsumptionMilestoneDecider.Pending(state).Count > 0,
                async state => ConsumptionMilestoneDecider.Reached(state, await Crossings(session, state.Id, ConsumptionMilestoneDecider.Pending(state), ct), now), ct,
                streamsBefore?.GetValueOrDefault(id));
        }
    }

    /// <summary>
    /// After a void or correction, under one lock: an achieved milestone may dip under its threshold, and a pending one
    /// may be pushed over it.
    /// </summary>
    public static Task Recheck(IDocumentSession session, IMessageBus bus, string commitmentId, string usageId, Instant now, CancellationToken ct) =>
        CommitmentStream.DecideLocked(session, bus, commitmentId,
            state => ConsumptionMilestoneDecider.Achieved(state).Count > 0 || ConsumptionMilestoneDecider.Pending(state).Count > 0, async state =>
            {
                var consumed = await RunningTotals(session, state.Id, ConsumptionMilestoneDecider.Achieved(state), ct);
                var crossings = await Crossings(session, state.Id, ConsumptionMilestoneDecider.Pending(state), ct);
                return [.. ConsumptionMilestoneDecider.Reverted(state, consumed, usageId, now), .. ConsumptionMilestoneDecider.Reached(state, crossings, now)];
            }, ct);

    /// <summary>Pending milestones whose deadline day is over: achieved if crossed by then, missed otherwise.</summary>
    public static Task CheckDeadlines(IDocumentSession session, IMessageBus bus, string commitmentId, Instant now, CancellationToken ct) =>
        CommitmentStream.DecideLocked(session, bus, commitmentId, state => ConsumptionMilestoneDecider.PastDeadline(state, now).Count > 0, async state =>
        {
            var due = ConsumptionMilestoneDecider.PastDeadline(state, now);
            var crossings = await Crossings(session, state.Id, due, ct);
            var consumed = await RunningTotals(session, state.Id, due.Where(m => !crossings.ContainsKey(m.MilestoneId)).ToList(), ct);
            return ConsumptionMilestoneDecider.AtDeadline(state, crossings, consumed, now);
        }, ct);

    private static async Task<IReadOnlyDictionary<string, Crossing>> Crossings(IDocumentSession session, string commitmentId,
        IReadOnlyList<MilestoneDefinition> milestones, CancellationToken ct)
    {
        var crossings = new Dictionary<string, Crossing>(StringComparer.Ordinal);
        foreach (var milestone in milestones)
        {
            if (await CrossingOf(session, commitmentId, ConsumptionMilestoneDecider.Measure(milestone), ct) is { } crossing)
            {
                crossings[milestone.MilestoneId] = crossing;
            }
        }

        return crossings;
    }

    private static async Task<IReadOnlyDictionary<string, decimal>> RunningTotals(IDocumentSession session, string commitmentId,
        IReadOnlyList<MilestoneDefinition> milestones, CancellationToken ct)
    {
        var totals = new Dictionary<string, decimal>(StringComparer.Ordinal);
        foreach (var milestone in milestones)
        {
            var measure = ConsumptionMilestoneDecider.Measure(milestone);
            totals[milestone.MilestoneId] = await UsageClaims.Consumed(session, commitmentId, measure.Chips, measure.ByHours, ct);
        }

        return totals;
    }

    /// <summary>The crossing of a measure, from the usage claims; null if stored usage never reaches its threshold.</summary>
    internal static async Task<Crossing?> CrossingOf(IDocumentSession session, string commitmentId, ConsumptionMeasure measure, CancellationToken ct) =>
        await UsageClaims.Reaching(session, commitmentId, measure.Chips, measure.Threshold, measure.ByHours, measure.StartsBefore, ct) is { } reached
            ? new Crossing(reached.UsageId, reached.Start)
            : null;
}
