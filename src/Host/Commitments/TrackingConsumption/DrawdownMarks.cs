using ComputeLedger.Ledger.Commitments.TrackingConsumption;
using ComputeLedger.Projections.Usage;
using ComputeLedger.Host.Usage;
using Marten;
using Wolverine;

namespace ComputeLedger.Host.Commitments.TrackingConsumption;

/// <summary>
/// Drawdown marks, as the Host sees them: the drawdown read model is the cheap trigger; under the commitment's lock the
/// usage claims (the ledger's own total) are measured and <see cref="DrawdownMarkDecider"/> decides, so each mark is
/// recorded once.
/// </summary>
public static class DrawdownMarks
{
    /// <param name="drawdown">The commitment's drawdown view as the caller read it: only the trigger, never the decision.</param>
    public static async Task Check(IDocumentSession session, IMessageBus bus, Drawdown drawdown, Instant now, CancellationToken ct)
    {
        if (drawdown is not { Committed: { Amount: > 0 } committed, Consumed: { } viewed } || viewed.Currency != committed.Currency)
        {
            return;
        }

        await CommitmentStream.DecideLocked(session, bus, drawdown.Id, state => DrawdownMarkDecider.Due(state, committed, viewed.Amount).Count > 0, async state =>
        {
            var total = await UsageClaims.Consumed(session, state.Id, null, byHours: false, ct);
            var crossings = new Dictionary<int, Crossing>();
            foreach (var mark in DrawdownMarkDecider.Due(state, committed, total))
            {
                if (await ConsumptionMilestones.CrossingOf(session, state.Id, DrawdownMarkDecider.Measure(committed, mark), ct) is { } crossing)
                {
                    crossings[mark] = crossing;
                }
            }

            return DrawdownMarkDecider.Decide(state, committed, total, crossings, now);
        }, ct);
    }
}
